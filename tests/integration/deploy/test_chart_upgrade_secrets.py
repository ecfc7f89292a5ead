"""`helm upgrade` keeps every generated secret: the chart rendered against a cluster (the project's fake API
server) that holds a release's Secrets reads them back with `lookup`, and adds the ones the release lacks."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .conftest import CHART, Manifest, by_kind, helm_template, named, parse_manifests

fake_kubernetes = pytest.importorskip("tradewind.testing.fake_kubernetes")
objects = pytest.importorskip("tradewind.testing.fake_kubernetes.objects")

#: API groups and kinds of the chart beyond what the fake server serves: helm maps every rendered object
#: to a resource before it shows anything, so discovery must know them (reads of them find nothing).
EXTRA_RESOURCES = {
    "v1": [("services", "Service", True), ("persistentvolumeclaims", "PersistentVolumeClaim", True)],
    "apps/v1": [("deployments", "Deployment", True), ("statefulsets", "StatefulSet", True)],
    "batch/v1": [("jobs", "Job", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True), ("ingresses", "Ingress", True)],
    "rbac.authorization.k8s.io/v1": [
        ("roles", "Role", True), ("rolebindings", "RoleBinding", True),
        ("clusterroles", "ClusterRole", False), ("clusterrolebindings", "ClusterRoleBinding", False),
    ],
}  # fmt: skip
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
RELEASE, NAMESPACE = "tw", "data"


def _resource(name: str, kind: str, namespaced: bool) -> dict[str, Any]:
    return {
        "name": name,
        "singularName": kind.lower(),
        "namespaced": namespaced,
        "kind": kind,
        "verbs": VERBS,
    }


class ChartCluster(fake_kubernetes.FakeKubernetes):  # type: ignore[name-defined]
    """The fake API server, with discovery of every kind the chart renders."""

    def app(self) -> Starlette:
        async def core(request: Request) -> Response:
            resources = [_resource(k.resource, k.kind, k.namespaced) for k in objects.KINDS.values()]
            resources += [_resource(*r) for r in EXTRA_RESOURCES["v1"]]
            return JSONResponse({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources})

        async def groups(request: Request) -> Response:
            group_versions = [gv.split("/") for gv in EXTRA_RESOURCES if gv != "v1"]
            return JSONResponse({"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": group, "versions": [{"groupVersion": f"{group}/{version}", "version": version}],
                 "preferredVersion": {"groupVersion": f"{group}/{version}", "version": version}}
                for group, version in group_versions
            ]})  # fmt: skip

        async def group(request: Request) -> Response:
            gv = f"{request.path_params['group']}/{request.path_params['version']}"
            resources = [_resource(*r) for r in EXTRA_RESOURCES.get(gv, [])]
            return JSONResponse({"kind": "APIResourceList", "groupVersion": gv, "resources": resources})

        ours: list[BaseRoute] = [
            Route("/api/v1", core),
            Route("/apis", groups),
            Route("/apis/{group}/{version}", group),
        ]
        paths = {"/api/v1", "/apis"}
        rest = [r for r in super().app().routes if getattr(r, "path", None) not in paths]
        return Starlette(routes=[*ours, *rest])

    def keep(self, secret: Manifest) -> None:
        """Store a Secret as a Helm release owns it (helm refuses to take over objects it did not make)."""
        metadata = {
            "name": secret["metadata"]["name"],
            "labels": {**secret["metadata"].get("labels", {}), "app.kubernetes.io/managed-by": "Helm"},
            "annotations": {
                "meta.helm.sh/release-name": RELEASE,
                "meta.helm.sh/release-namespace": NAMESPACE,
            },
        }
        self.store.create("secrets", NAMESPACE, {"metadata": metadata, "data": dict(secret["data"])})


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ChartCluster]:
    with ChartCluster(tmp_path, namespaces=(NAMESPACE,)) as server:
        yield server


def render_against(helm: Path, cluster: ChartCluster, sets: list[str]) -> list[Manifest]:
    """`helm template` connected to the cluster, so `lookup` reads its Secrets as `helm upgrade` would."""
    command = [
        str(helm), "template", RELEASE, str(CHART), "--namespace", NAMESPACE,
        "--dry-run=server", "--disable-openapi-validation",
    ]  # fmt: skip
    for item in sets:
        command += ["--set", item]
    env = {**os.environ, "KUBECONFIG": str(cluster.write_kubeconfig())}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    return parse_manifests(result.stdout)


def secret_data(manifests: list[Manifest]) -> dict[str, str]:
    return {
        f"{s['metadata']['name']}/{key}": base64.b64decode(value).decode()
        for s in by_kind(manifests, "Secret")
        for key, value in s["data"].items()
    }


def test_upgrade_keeps_generated_secrets_and_adds_the_new_keys_once(
    helm: Path, cluster: ChartCluster
) -> None:
    sets = ["executor=celery"]  # bundled PostgreSQL and Redis: every generated secret there is
    installed = parse_manifests(helm_template(helm, sets=sets).stdout)
    # A release installed before the execution API and connections existed: every Secret but the
    # signing key's and the Fernet key's.
    new = ("-execution-api", "-fernet-key")
    for secret in by_kind(installed, "Secret"):
        if not secret["metadata"]["name"].endswith(new):
            cluster.keep(secret)
    before = secret_data(installed)

    upgraded = render_against(helm, cluster, sets)
    after = secret_data(upgraded)
    signing_key = "tw-tradewind-execution-api/jwt-secret"
    fernet_key = "tw-tradewind-fernet-key/fernet-key"
    assert {k: v for k, v in after.items() if k not in (signing_key, fernet_key)} == {
        k: v for k, v in before.items() if k not in (signing_key, fernet_key)
    }
    assert after[signing_key] != before[signing_key] and len(after[signing_key]) == 64
    assert after[fernet_key] != before[fernet_key] and len(after[fernet_key]) == 44
    # The services still find the database, workers the broker, with the passwords they had.
    assert after["tw-tradewind-env/TRADEWIND__DATABASE__URL"].startswith(
        f"postgresql://tradewind:{before['tw-tradewind-postgresql/password']}@"
    )
    assert (
        f":{before['tw-tradewind-redis/password']}@"
        in after["tw-tradewind-celery-worker/TRADEWIND__CELERY__BROKER_URL"]
    )

    cluster.keep(named(upgraded, "Secret", "-execution-api"))
    cluster.keep(named(upgraded, "Secret", "-fernet-key"))
    again = secret_data(render_against(helm, cluster, sets))
    assert again == after, "a second upgrade changed a secret"
