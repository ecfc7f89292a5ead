"""A container's securityContext and resource limits as podman options."""

from __future__ import annotations

import math
import re
from typing import Any

from tradewind.testing.container_kubelet.podman import ImageConfig
from tradewind.testing.process_kubelet.container_env import ContainerConfigError

Obj = dict[str, Any]
_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIXES = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def parse_quantity(text: str | int | float) -> float:
    """A Kubernetes quantity (``512Mi``, ``1G``, ``250m``, ``0.5``) as a number."""
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ContainerConfigError(f"invalid resource quantity {text!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def resource_args(container: Obj) -> list[str]:
    limits = (container.get("resources") or {}).get("limits") or {}
    args = []
    if "memory" in limits:
        # No swap on top, as a kubelet sets it (podman's default would add as much again as swap).
        memory = str(math.ceil(parse_quantity(limits["memory"])))
        args += ["--memory", memory, "--memory-swap", memory]
    if "cpu" in limits:
        args += ["--cpus", f"{parse_quantity(limits['cpu']):.3f}"]
    return args


def _effective(pod: Obj, container: Obj, key: str) -> Any:
    own = (container.get("securityContext") or {}).get(key)
    return own if own is not None else (pod["spec"].get("securityContext") or {}).get(key)


def security_args(pod: Obj, container: Obj, image: ImageConfig) -> list[str]:
    """``--user``, supplementary groups, read-only root, capabilities, no-new-privileges. Raises
    ContainerConfigError where a kubelet refuses to create the container (runAsNonRoot with a root user)."""
    pod_context = pod["spec"].get("securityContext") or {}
    context = container.get("securityContext") or {}
    user, group = _effective(pod, container, "runAsUser"), _effective(pod, container, "runAsGroup")
    if _effective(pod, container, "runAsNonRoot"):
        _check_non_root(user, image.user)
    args: list[str] = []
    if user is not None or group is not None:
        name = str(user) if user is not None else (image.user.partition(":")[0] or "0")
        args += ["--user", f"{name}:{group}" if group is not None else name]
    for extra in [pod_context.get("fsGroup"), *(pod_context.get("supplementalGroups") or [])]:
        if extra is not None:
            args += ["--group-add", str(extra)]
    if context.get("readOnlyRootFilesystem"):
        # Only the root is read-only: podman's extra tmpfs on /tmp, /run ... are not a kubelet's.
        args += ["--read-only", "--read-only-tmpfs=false"]
    if context.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if context.get("privileged"):
        args += ["--privileged"]
    capabilities = context.get("capabilities") or {}
    args += [arg for cap in capabilities.get("drop") or [] for arg in ("--cap-drop", cap)]
    args += [arg for cap in capabilities.get("add") or [] for arg in ("--cap-add", cap)]
    return args


def _check_non_root(user: Any, image_user: str) -> None:
    if user is not None:
        if int(user) == 0:
            raise ContainerConfigError("container's runAsUser breaks non-root policy")
        return
    name = image_user.partition(":")[0]
    if name in ("", "0", "root"):
        raise ContainerConfigError("container has runAsNonRoot and image will run as root")
    if not name.isdigit():
        raise ContainerConfigError(
            f"container has runAsNonRoot and image has non-numeric user ({name}), "
            "cannot verify user is non-root"
        )
