"""The container engine the container kubelet drives: podman, through its command line.

``run_prefix`` is how this machine runs a container (``podman run`` and the flags the machine needs, such
as ``--runtime runc --network host``); every other command is derived from it, so one setting carries the
sandbox's flags to create, start, stop and remove alike.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tradewind.sdk.errors import ConfigError, TradewindError

#: How long a podman command that should be quick (inspect, create, rm) may take on a busy machine.
COMMAND_TIMEOUT = 120.0
#: Set on every container the kubelet creates, so it (and a person) can find them.
NODE_LABEL = "tradewind.fake-kubelet/node"
KUBELET_LABEL = "tradewind.fake-kubelet/instance"


class EngineError(TradewindError):
    """A podman command failed; the message is podman's own."""


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What an image says about how it runs (``podman image inspect``'s Config)."""

    entrypoint: list[str]
    cmd: list[str]
    user: str
    working_dir: str
    stop_signal: str


@dataclass(frozen=True, slots=True)
class ContainerState:
    """The end of a container, from ``podman inspect``'s State."""

    exit_code: int
    oom_killed: bool
    error: str
    started: bool


@dataclass
class ContainerEngine:
    run_prefix: list[str]
    _images: dict[str, ImageConfig] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if "run" not in self.run_prefix[1:]:
            raise ConfigError(
                f"the container engine command {shlex.join(self.run_prefix)!r} must be a `run` command "
                "(podman run FLAGS...)",
                key="containers.run",
            )

    @classmethod
    def from_command_line(cls, text: str) -> ContainerEngine:
        return cls(shlex.split(text))

    @property
    def program(self) -> str:
        return self.run_prefix[0]

    def command(self, verb: str, *args: str, with_run_flags: bool = False) -> list[str]:
        """``podman VERB ARGS``, keeping the flags before ``run`` (global ones), and with ``with_run_flags``
        those after it (create takes the same flags as run)."""
        at = self.run_prefix.index("run", 1)
        flags = self.run_prefix[at + 1 :] if with_run_flags else []
        return [*self.run_prefix[:at], verb, *flags, *args]

    def _run(
        self, argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> str:
        try:
            result = subprocess.run(
                list(argv),
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"{shlex.join(argv[:3])}: {exc}") from None
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise EngineError(message[-1] if message else f"{argv[1]} exited with {result.returncode}")
        return result.stdout

    # -- images -------------------------------------------------------------------------------------
    def image(self, reference: str) -> ImageConfig | None:
        """The image's run configuration, or None when the node does not have it (nothing is pulled)."""
        with self._lock:
            if reference in self._images:
                return self._images[reference]
        try:
            raw = self._run(self.command("image", "inspect", "--format", "{{json .Config}}", reference))
        except EngineError:
            return None
        config: dict[str, Any] = json.loads(raw) or {}
        image = ImageConfig(
            entrypoint=list(config.get("Entrypoint") or []),
            cmd=list(config.get("Cmd") or []),
            user=str(config.get("User") or ""),
            working_dir=str(config.get("WorkingDir") or ""),
            stop_signal=str(config.get("StopSignal") or ""),
        )
        with self._lock:
            self._images[reference] = image
        return image

    # -- containers ---------------------------------------------------------------------------------
    def create(self, args: Sequence[str], env: dict[str, str]) -> str:
        """Create a container; ``env`` is podman's own environment (the values ``--env NAME`` reads)."""
        return self._run(self.command("create", *args, with_run_flags=True), env=env).strip()

    def start_attached(self, container_id: str) -> subprocess.Popen[bytes]:
        """Start the container and stream its stdout and stderr (podman returns when the container ends).

        podman starts the container's conmon from its own working directory, and conmon records an OOM
        kill in the container's memory cgroup as a file ``oom`` there; podman (4.x) sets State.OOMKilled
        from the ``oom`` file in the container's bundle (its StaticDir). So podman runs from that folder:
        elsewhere its OOM record lands in the kubelet's working directory and OOMKilled stays false.
        """
        bundle = self._run(
            self.command("inspect", "--type", "container", "--format", "{{.StaticDir}}", container_id)
        ).strip()
        try:
            return subprocess.Popen(
                self.command("start", "--attach", container_id),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                cwd=bundle,
            )
        except OSError as exc:
            raise EngineError(f"{self.program} start: {exc}") from None

    def state(self, container_id: str) -> ContainerState:
        raw = self._run(
            self.command("inspect", "--type", "container", "--format", "{{json .State}}", container_id)
        )
        state: dict[str, Any] = json.loads(raw)
        exit_code = int(state.get("ExitCode") or 0)
        started = not str(state.get("StartedAt") or "").startswith("0001-")
        oom = bool(state.get("OOMKilled"))  # conmon saw the cgroup's OOM killer fire (start_attached)
        return ContainerState(exit_code, oom, str(state.get("Error") or ""), started)

    def stop(self, container_id: str, grace_seconds: int) -> None:
        """The stop signal (the image's, SIGTERM by default), then SIGKILL after ``grace_seconds``."""
        with contextlib.suppress(EngineError):  # already gone, or already stopped
            self._run(
                self.command("stop", "--time", str(max(0, grace_seconds)), container_id),
                timeout=COMMAND_TIMEOUT + grace_seconds,
            )

    def kill(self, container_id: str) -> None:
        with contextlib.suppress(EngineError):  # not running
            self._run(self.command("kill", "--signal", "KILL", container_id))

    def remove(self, *container_ids: str) -> None:
        if container_ids:
            with contextlib.suppress(EngineError):
                self._run(self.command("rm", "--force", "--ignore", "--time", "0", *container_ids))

    def remove_labelled(self, label: str, value: str) -> None:
        """Force-remove every container carrying ``label=value`` (a kubelet's leftovers)."""
        try:
            listed = self._run(self.command("ps", "--all", "--quiet", "--filter", f"label={label}={value}"))
        except EngineError:
            return
        self.remove(*listed.split())
