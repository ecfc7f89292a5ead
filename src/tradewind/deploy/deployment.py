"""One deployment from start to end: render, `helm upgrade --install`, wait for the pods, check /health;
and its removal."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from tradewind.deploy.chart import chart_path
from tradewind.deploy.health_probe import HealthReport, external_url, fetch_health, wait_for_health
from tradewind.deploy.helm import ChartSource, Helm
from tradewind.deploy.kubectl import Kubectl
from tradewind.deploy.options import DeployOptions, chart_values, write_values
from tradewind.deploy.progress import RolloutDisplay
from tradewind.deploy.rollout import RolloutSnapshot, RolloutWatch, snapshot
from tradewind.deploy.tools import find_tool
from tradewind.sdk.errors import DeploymentError, NotFoundError

#: Seconds the /health check may take at least, even when the rollout used most of --timeout.
MIN_HEALTH_TIMEOUT = 120.0
FLAG_VALUES_FILE = "flag-values.yaml"
MANIFESTS_FILE = "manifests.yaml"


@dataclass(frozen=True)
class ReleaseFacts:
    """Names the rendered chart decided, read back from the manifests rather than guessed again."""

    webserver_service: str
    service_port: int
    ingress: str | None
    admin_user: str | None
    admin_secret: str | None


@dataclass(frozen=True)
class RenderResult:
    manifests: Path
    flag_values: Path


@dataclass(frozen=True)
class DeployResult:
    namespace: str
    facts: ReleaseFacts
    url: str | None
    health: HealthReport
    server_version: str

    def port_forward_command(self) -> str:
        return (
            f"kubectl --namespace {self.namespace} port-forward service/{self.facts.webserver_service} "
            f"8080:{self.facts.service_port}"
        )

    def password_command(self) -> str | None:
        if not self.facts.admin_secret:
            return None
        return (
            f"kubectl --namespace {self.namespace} get secret {self.facts.admin_secret} "
            "-o jsonpath='{.data.password}' | base64 -d"
        )


def release_facts(manifests: str) -> ReleaseFacts:
    """The webserver Service, Ingress and admin user of rendered manifests."""
    service, port, ingress, user, secret = None, 8080, None, None, None
    for doc in yaml.safe_load_all(manifests):
        if not isinstance(doc, dict):
            continue
        kind, meta = doc.get("kind"), doc.get("metadata", {})
        component = meta.get("labels", {}).get("app.kubernetes.io/component")
        if kind == "Service" and component == "webserver":
            service = meta["name"]
            port = int(doc["spec"]["ports"][0]["port"])
        elif kind == "Ingress" and component == "webserver":
            ingress = meta["name"]
        elif kind == "Job" and component == "create-admin":
            for env in doc["spec"]["template"]["spec"]["containers"][0].get("env", []):
                if env["name"] == "TRADEWIND_ADMIN_USER":
                    user = env.get("value")
                elif env["name"] == "TRADEWIND_ADMIN_PASSWORD":
                    secret = env["valueFrom"]["secretKeyRef"]["name"]
    if service is None:
        raise DeploymentError("the rendered chart has no webserver Service; is --chart a Tradewind chart?")
    return ReleaseFacts(service, port, ingress, user, secret)


class Deployer:
    """Runs one DeployOptions against the cluster of the current kube context."""

    def __init__(self, options: DeployOptions, *, console: Console) -> None:
        options.validate()
        self.options = options
        self.console = console
        self.chart = chart_path(options.chart)
        self.helm = Helm(find_tool("helm"), kube_context=options.kube_context)

    def source(self, flag_values: Path) -> ChartSource:
        # Values files first, then the flags' values (a flag beats a file), then --set.
        return ChartSource(
            chart=self.chart,
            release=self.options.release,
            namespace=self.options.namespace,
            values_files=(*self.options.values_files, flag_values),
            set_values=self.options.set_values,
        )

    def render(self, output_dir: Path) -> RenderResult:
        """Write the flags' values and the rendered manifests (`helm template` output, byte for byte)."""
        folder = output_dir / self.options.release
        flag_values = write_values(chart_values(self.options), folder / FLAG_VALUES_FILE)
        manifests = self.helm.template(self.source(flag_values))
        path = folder / MANIFESTS_FILE
        # The manifests hold the release's Secrets: readable by their owner only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(manifests)
        return RenderResult(manifests=path, flag_values=flag_values)

    def deploy(self) -> DeployResult:
        options = self.options
        kubectl = Kubectl(find_tool("kubectl"), kube_context=options.kube_context)
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="tradewind-deploy-") as tmp:
            flag_values = write_values(chart_values(options), Path(tmp) / FLAG_VALUES_FILE)
            source = self.source(flag_values)
            # Rendering first turns bad values into a clear error before anything reaches the cluster.
            facts = release_facts(self.helm.template(source))
            server_version = kubectl.check_cluster()
            self.console.print(
                f"Deploying release [bold]{options.release}[/] to namespace [bold]{options.namespace}[/] "
                f"(Kubernetes {server_version}, chart {self.chart})"
            )
            self._apply_and_wait(source, kubectl)
        remaining = options.timeout - (time.monotonic() - started)
        health_timeout = max(remaining, MIN_HEALTH_TIMEOUT)
        with self.console.status("Checking /health through the webserver Service"):
            with kubectl.port_forward(
                options.namespace, f"service/{facts.webserver_service}", facts.service_port
            ) as port:
                health = wait_for_health(f"http://127.0.0.1:{port}", timeout=health_timeout)
            url = self._external_url(kubectl, facts)
        return DeployResult(options.namespace, facts, url, health, server_version)

    def _apply_and_wait(self, source: ChartSource, kubectl: Kubectl) -> None:
        options = self.options
        selector = f"app.kubernetes.io/instance={options.release}"
        process = self.helm.start_upgrade_install(source, timeout=options.timeout)
        helm_running = True

        def fetch() -> RolloutSnapshot:
            nonlocal helm_running
            if helm_running and process.poll() is not None:
                self.helm.finish(process, action=f"install or upgrade release {options.release!r}")
                helm_running = False
            current = snapshot(
                kubectl.get("deployments,statefulsets", options.namespace, selector=selector),
                kubectl.get("pods", options.namespace, selector=selector),
                kubectl.get("jobs", options.namespace, selector=selector),
            )
            if helm_running:
                current = dataclasses.replace(
                    current, waiting_for=("helm upgrade --install (migrations, admin user)",)
                )
            return current

        try:
            with RolloutDisplay(self.console, title=f"Pods of release {options.release}") as display:
                RolloutWatch(
                    fetch=fetch,
                    timeout=options.timeout,
                    namespace=options.namespace,
                    on_update=display.update,
                ).run()
        finally:
            if process.poll() is None:
                # Helm marks the release failed on SIGTERM, so a later upgrade can go on from there.
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def _external_url(self, kubectl: Kubectl, facts: ReleaseFacts) -> str | None:
        service = kubectl.get_one("service", facts.webserver_service, self.options.namespace) or {}
        ingress = kubectl.get_one("ingress", facts.ingress, self.options.namespace) if facts.ingress else None
        url = external_url(service, ingress)
        if url and not fetch_health(url, timeout=5.0).healthy:
            self.console.print(
                f"[yellow]note:[/] {url} did not answer from here (a private load balancer, DNS not set up "
                "yet?); the port-forward below works from anywhere kubectl does"
            )
        return url


def delete_release(
    *,
    release: str,
    namespace: str,
    purge: bool,
    timeout: float,
    kube_context: str | None,
    console: Console,
) -> list[str]:
    """`helm uninstall`; with ``purge`` also the volumes, kept Secrets and left-over worker pods of the
    release. Returns what was done, one line each."""
    helm = Helm(find_tool("helm"), kube_context=kube_context)
    kubectl = Kubectl(find_tool("kubectl"), kube_context=kube_context)
    kubectl.check_cluster()
    done: list[str] = []
    try:
        with console.status(f"helm uninstall {release}"):
            helm.uninstall(release, namespace, timeout=timeout)
        done.append(f"uninstalled release {release} from namespace {namespace}")
    except NotFoundError:
        if not purge:
            raise
        done.append(f"no release {release} in namespace {namespace}; purging what it left")
    if purge:
        selector = f"app.kubernetes.io/instance={release}"
        deleted = kubectl.delete("pods,persistentvolumeclaims,secrets", namespace, selector=selector)
        done.extend(line for line in deleted.splitlines() if line.strip())
    else:
        done.append(
            "kept: the database volume and its password Secret (a reinstall reopens them); "
            "`tradewind deploy delete --purge` removes them"
        )
    return done
