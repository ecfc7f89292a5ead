"""The worker pod template file: a YAML Pod with a container named ``base``, checked once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tradewind.sdk.errors import ConfigError

BASE_CONTAINER = "base"
_KEY = "kubernetes.pod_template_file"


def default_template() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"containers": [{"name": BASE_CONTAINER}]}}


def load_pod_template(path: Path | None) -> dict[str, Any]:
    """Read and check the template; the default is a bare pod with one ``base`` container."""
    if path is None:
        return default_template()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read the pod template {path}: {exc.strerror}", key=_KEY) from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"the pod template {path}{where} is not valid YAML: {exc}", key=_KEY) from None
    check_pod_template(doc, str(path))
    assert isinstance(doc, dict)
    return doc


def check_pod_template(doc: Any, source: str) -> None:
    if not isinstance(doc, dict):
        raise ConfigError(f"the pod template {source} must be a YAML mapping (a Pod), not {type(doc).__name__}",
                          key=_KEY)
    if doc.get("kind", "Pod") != "Pod":
        raise ConfigError(f"the pod template {source} has kind {doc.get('kind')!r}; it must be a Pod", key=_KEY)
    spec = doc.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
        raise ConfigError(f"the pod template {source} needs spec.containers, a list of containers", key=_KEY)
    if not any(c.get("name") == BASE_CONTAINER for c in containers):
        names = [c.get("name") for c in containers]
        raise ConfigError(
            f"the pod template {source} needs a container named {BASE_CONTAINER!r} in spec.containers "
            f"(found {names}); the task runs in it",
            key=_KEY,
        )
