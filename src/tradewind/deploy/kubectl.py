"""Running kubectl: reaching the cluster, reading the release's objects as JSON, port-forwarding, deleting."""

from __future__ import annotations

import json
import re
import selectors
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradewind.sdk.errors import DeploymentError

#: "Forwarding from 127.0.0.1:41235 -> 8080"
_FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(?P<port>\d+) -> \d+")


def parse_forwarded_port(line: str) -> int | None:
    """The local port of a `kubectl port-forward` output line, or None for other lines."""
    match = _FORWARDING.search(line)
    return int(match.group("port")) if match else None


class Kubectl:
    """The kubectl program, with an optional kube context and a bound on each API request."""

    def __init__(
        self, binary: Path, *, kube_context: str | None = None, request_timeout: float = 15.0
    ) -> None:
        self.binary = binary
        self.kube_context = kube_context
        self.request_timeout = request_timeout

    def command(self, *args: str) -> list[str]:
        base = [str(self.binary), f"--request-timeout={int(self.request_timeout)}s"]
        if self.kube_context:
            base.append(f"--context={self.kube_context}")
        return [*base, *args]

    def check_cluster(self) -> str:
        """The API server's version, or an error saying the cluster cannot be reached and which one."""
        result = self._run("version", "--output=json")
        if result.returncode == 0:
            try:
                server = json.loads(result.stdout).get("serverVersion") or {}
            except json.JSONDecodeError:
                server = {}
            if server.get("gitVersion"):
                return str(server["gitVersion"])
        context = self.kube_context or self._current_context() or "(none)"
        reason = (result.stderr.strip().splitlines() or ["no server version in `kubectl version`"])[-1]
        raise DeploymentError(
            f"cannot reach the Kubernetes cluster of context {context}: {reason}; "
            "check KUBECONFIG (or --kube-context) and that the cluster is running"
        )

    def get(self, kinds: str, namespace: str, *, selector: str | None = None) -> list[dict[str, Any]]:
        """Objects of ``kinds`` (comma-separated) in ``namespace``, as Kubernetes JSON."""
        args = ["get", kinds, f"--namespace={namespace}", "--output=json"]
        if selector:
            args.append(f"--selector={selector}")
        result = self._run(*args)
        if result.returncode != 0:
            raise DeploymentError(
                f"kubectl get {kinds} in namespace {namespace} failed: {result.stderr.strip()}"
            )
        items: list[dict[str, Any]] = json.loads(result.stdout).get("items", [])
        return items

    def get_one(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        result = self._run(
            "get", kind, name, f"--namespace={namespace}", "--output=json", "--ignore-not-found"
        )
        if result.returncode != 0:
            raise DeploymentError(
                f"kubectl get {kind}/{name} in namespace {namespace} failed: {result.stderr.strip()}"
            )
        if not result.stdout.strip():
            return None
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    def delete(self, kinds: str, namespace: str, *, selector: str) -> str:
        result = self._run(
            "delete", kinds, f"--namespace={namespace}", f"--selector={selector}", "--ignore-not-found"
        )
        if result.returncode != 0:
            raise DeploymentError(
                f"kubectl delete {kinds} in namespace {namespace} failed: {result.stderr.strip()}"
            )
        return result.stdout

    @contextmanager
    def port_forward(
        self, namespace: str, target: str, remote_port: int, *, timeout: float = 30.0
    ) -> Iterator[int]:
        """Forward a free local port to ``target`` (service/NAME) for the duration of the block."""
        process = subprocess.Popen(
            self.command(
                "port-forward", f"--namespace={namespace}", target, f":{remote_port}", "--address=127.0.0.1"
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield self._forwarded_port(process, timeout=timeout, target=target)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _forwarded_port(self, process: subprocess.Popen[str], *, timeout: float, target: str) -> int:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                if not selector.select(timeout=min(remaining, 1.0)):
                    if process.poll() is not None:
                        break
                    continue
                line = process.stdout.readline()
                if not line:
                    break
                if (port := parse_forwarded_port(line)) is not None:
                    return port
        finally:
            selector.close()
        stderr = ""
        if process.poll() is not None and process.stderr is not None:
            stderr = process.stderr.read().strip()
        raise DeploymentError(
            f"kubectl port-forward to {target} did not start within {timeout:.0f}s: {stderr}"
        )

    def _current_context(self) -> str | None:
        result = self._run("config", "current-context")
        return result.stdout.strip() or None if result.returncode == 0 else None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), capture_output=True, text=True, check=False)
