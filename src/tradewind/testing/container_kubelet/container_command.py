"""What a container runs, by Kubernetes' rules against the image's ENTRYPOINT and CMD."""

from __future__ import annotations

from typing import Any

from tradewind.testing.container_kubelet.podman import ImageConfig
from tradewind.testing.process_kubelet.container_env import expand


def container_argv(container: dict[str, Any], image: ImageConfig, env: dict[str, str]) -> list[str]:
    """``command`` replaces the image's ENTRYPOINT (and then its CMD is not used); ``args`` replaces its CMD.

    Both are expanded for ``$(VAR)`` from the container's environment, as the kubelet does.
    """
    command = container.get("command")
    args = container.get("args")
    argv = [*command, *(args or [])] if command else [*image.entrypoint, *(args if args else image.cmd)]
    return [expand(part, env) for part in argv]
