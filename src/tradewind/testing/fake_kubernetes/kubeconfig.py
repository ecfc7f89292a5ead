"""A kubeconfig file pointing at the fake API server, usable by ``kubernetes.config.load_kube_config``."""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_CONTEXT = "tradewind-fake"


def kubeconfig_document(server_url: str, *, context: str = DEFAULT_CONTEXT, namespace: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        # The fake does not check credentials; a token keeps clients that insist on one happy.
        "users": [{"name": context, "user": {"token": "fake-cluster-token"}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
        ],
        "current-context": context,
    }


def write_kubeconfig(
    path: Path, server_url: str, *, context: str = DEFAULT_CONTEXT, namespace: str = "default"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig_document(server_url, context=context, namespace=namespace)))
    path.chmod(0o600)
    return path
