"""One pod's life on the process kubelet: pull, mount, configure, run, report, and die on deletion."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlparse

import httpx

from tradewind.testing.fake_kubernetes.faults import POD_FAULT_ANNOTATION, PodFault
from tradewind.testing.node_logs import container_log_path, format_line, remove_pod_logs
from tradewind.testing.process_kubelet.api import ApiStatusError, KubeletApi
from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.container_env import ContainerConfigError, expand, resolve_env
from tradewind.testing.process_kubelet.pod_status import StatusBuilder
from tradewind.testing.process_kubelet.volume_mounts import MountError, check_mounts

log = logging.getLogger(__name__)
Obj = dict[str, Any]
EVICTION_MESSAGE = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi."


class WaitingReporter(Protocol):
    """What reports a pod that waits to start (the process kubelet's StatusBuilder, the container kubelet's
    PodStatusBook)."""

    def waiting(self, reason: str, message: str | None = None) -> Obj: ...

    def evicted(self, message: str) -> Obj: ...


class PodGone(Exception):
    """The pod object disappeared (force-deleted, or its deletion finished): stop everything."""


def main_container(pod: Obj) -> Obj:
    containers = pod["spec"]["containers"]
    return next((c for c in containers if c["name"] == "base"), containers[0])


class PodWorker:
    """Runs in its own thread. The kubelet's watch loop feeds it pod updates with ``update()``."""

    def __init__(self, config: KubeletConfig, pod: Obj) -> None:
        self.config = config
        self.pod = pod
        self.namespace = pod["metadata"]["namespace"]
        self.name = pod["metadata"]["name"]
        self.uid = pod["metadata"]["uid"]
        self.container = main_container(pod)
        self._cond = threading.Condition()
        self._gone = False
        self._process: subprocess.Popen[bytes] | None = None
        self._exited = False
        self.thread = threading.Thread(target=self._run, name=f"pod-{self.name}", daemon=True)

    # -- fed by the kubelet -------------------------------------------------------------------------
    def update(self, pod: Obj) -> None:
        with self._cond:
            self.pod = pod
            self._cond.notify_all()

    def removed(self) -> None:
        with self._cond:
            self._gone = True
            self._cond.notify_all()

    def kill(self) -> None:
        """Kubelet shutdown: no reports, just make sure no process outlives us."""
        self.removed()
        self._signal(signal.SIGKILL)

    @property
    def _deletion_grace(self) -> int | None:
        meta = self.pod["metadata"]
        if not meta.get("deletionTimestamp"):
            return None
        return int(meta.get("deletionGracePeriodSeconds") or 0)

    @property
    def _fault(self) -> str | None:
        return (self.pod["metadata"].get("annotations") or {}).get(POD_FAULT_ANNOTATION)

    def _wait(self, seconds: float, *, until_exit: bool = False) -> None:
        """Sleep until notified (pod update, removal, or with ``until_exit`` the process exit)."""
        with self._cond:
            if not self._gone and not (until_exit and self._exited):
                self._cond.wait(seconds)
        if self._gone:
            raise PodGone

    # -- the life -----------------------------------------------------------------------------------
    def _run(self) -> None:
        api = KubeletApi(self.config.api_url, self.config.node_name)
        try:
            self._live(api)
        except PodGone:
            pass
        except (ApiStatusError, httpx.HTTPError) as exc:
            log.warning("pod %s/%s: API error, giving up on it: %s", self.namespace, self.name, exc)
        finally:
            self._signal(signal.SIGKILL)
            api.close()
            remove_pod_logs(self.config.log_dir, self.namespace, self.name, self.uid)

    def _report(self, api: KubeletApi, status: Obj) -> None:
        if api.patch_status(self.namespace, self.name, status) is None:
            raise PodGone

    def _live(self, api: KubeletApi) -> None:
        builder = StatusBuilder(self.pod, self.container)
        self._report(api, builder.waiting("ContainerCreating"))
        image = self.container.get("image", "")
        if not self._pull(api, builder, image):
            return
        env = self._prepare(api, builder)
        if env is None:
            return
        command = [expand(part, env) for part in (self.container.get("command") or []) +
                   (self.container.get("args") or [])]
        api.record_event(self.pod, "Normal", "Created", f"Created container: {self.container['name']}")
        try:
            self._start(command, env)
        except OSError as exc:
            message = f"failed to start container: {exc}"
            api.record_event(self.pod, "Warning", "Failed", f"Error: {message}")
            self._report(api, builder.start_failed(message))
            self._await_deletion(api)
            return
        assert self._process is not None
        api.record_event(self.pod, "Normal", "Started", f"Started container: {self.container['name']}")
        self._report(api, builder.running(self._process.pid))
        self._supervise(api, builder)
        self._await_deletion(api)

    def _pull(self, api: KubeletApi, builder: WaitingReporter, image: str) -> bool:
        if self._fault != PodFault.IMAGE_PULL:
            api.record_event(self.pod, "Normal", "Pulled", f'Container image "{image}" already present on machine')
            return True
        api.record_event(self.pod, "Normal", "Pulling", f'Pulling image "{image}"')
        message = (f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                   f'image "{image}": not found')
        api.record_event(self.pod, "Warning", "Failed", message)
        self._report(api, builder.waiting("ErrImagePull", message))
        self._wait(0.3)
        api.record_event(self.pod, "Normal", "BackOff", f'Back-off pulling image "{image}"')
        self._report(api, builder.waiting("ImagePullBackOff", f'Back-off pulling image "{image}"'))
        self._await_deletion(api)
        return False

    def _prepare(self, api: KubeletApi, builder: WaitingReporter) -> dict[str, str] | None:
        """Mount volumes and build the environment, retrying while they cannot be set up yet."""
        last_problem = None
        while True:
            if self._deletion_grace is not None:
                self._finish_deletion(api)
                return None
            if self._fault == PodFault.EVICTED:
                self._evict(api, builder)
                return None
            try:
                return self._configure(api)
            except MountError as exc:
                if str(exc) != last_problem:
                    api.record_event(self.pod, "Warning", "FailedMount", str(exc))
                    self._report(api, builder.waiting("ContainerCreating"))
                last_problem = str(exc)
            except ContainerConfigError as exc:
                if str(exc) != last_problem:
                    api.record_event(self.pod, "Warning", "Failed", f"Error: {exc}")
                    self._report(api, builder.waiting("CreateContainerConfigError", str(exc)))
                last_problem = str(exc)
            self._wait(self.config.retry_interval)

    def _configure(self, api: KubeletApi) -> dict[str, str]:
        """Mount the volumes and build the environment; raises MountError or ContainerConfigError."""
        check_mounts(self.config, self.pod, self.container)
        return resolve_env(api, self.pod, self.container, self._base_env())

    def _base_env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in self.config.inherit_env if k in os.environ}
        env.update(self.config.image_env)
        api = urlparse(self.config.api_url)
        env.update({
            "HOSTNAME": self.name,
            "KUBERNETES_SERVICE_HOST": api.hostname or "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(api.port or 80),
        })
        return env

    def _start(self, command: list[str], env: dict[str, str]) -> None:
        if not command:
            raise OSError("the process kubelet needs a command: it cannot read an image's entrypoint")
        log_path = container_log_path(self.config.log_dir, self.namespace, self.name, self.uid,
                                      self.container["name"])
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.touch()
        workdir = self.container.get("workingDir")
        if workdir:
            Path(workdir).mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            command, cwd=workdir or None, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        self._process = process
        lock = threading.Lock()
        readers = [
            threading.Thread(target=copy_stream, args=(stream, name, log_path, lock), daemon=True)
            for stream, name in ((process.stdout, "stdout"), (process.stderr, "stderr"))
        ]
        for reader in readers:
            reader.start()
        threading.Thread(target=self._reap, args=(process, readers), daemon=True).start()

    def _reap(self, process: subprocess.Popen[bytes], readers: list[threading.Thread]) -> None:
        process.wait()
        for reader in readers:
            reader.join(timeout=5)
        with self._cond:
            self._exited = True
            self._cond.notify_all()

    def _supervise(self, api: KubeletApi, builder: StatusBuilder) -> None:
        """Wait for the process, killing it for deletion (TERM, grace, KILL), OOM or eviction."""
        started = time.monotonic()
        kill_at: float | None = None
        cause = None
        while not self._exited:
            grace, fault = self._deletion_grace, self._fault
            if grace is not None and kill_at is None:
                api.record_event(self.pod, "Normal", "Killing", f"Stopping container {self.container['name']}")
                self._signal(signal.SIGTERM)
                kill_at = time.monotonic() + grace
            if kill_at is not None and time.monotonic() >= kill_at:
                self._signal(signal.SIGKILL)
            if fault == PodFault.OOM_KILLED and time.monotonic() - started >= self.config.oom_after_seconds:
                cause = cause or "oom"
                self._signal(signal.SIGKILL)
            if fault == PodFault.EVICTED and cause is None:
                cause = "evicted"
                api.record_event(self.pod, "Warning", "Evicted", EVICTION_MESSAGE)
                self._signal(signal.SIGKILL)
            self._wait(0.05 if (kill_at or fault) else 1.0, until_exit=True)
        assert self._process is not None
        code = self._process.returncode
        exit_code = code if code >= 0 else 128 - code
        if cause == "oom":
            self._report(api, builder.terminated(137, "OOMKilled"))
        elif cause == "evicted":
            self._report(api, builder.terminated(exit_code, "Error", pod_reason="Evicted",
                                                 pod_message=EVICTION_MESSAGE))
        else:
            self._report(api, builder.terminated(exit_code, "Completed" if exit_code == 0 else "Error"))

    def _evict(self, api: KubeletApi, builder: WaitingReporter) -> None:
        api.record_event(self.pod, "Warning", "Evicted", EVICTION_MESSAGE)
        self._report(api, builder.evicted(EVICTION_MESSAGE))
        self._await_deletion(api)

    def _await_deletion(self, api: KubeletApi) -> None:
        while self._deletion_grace is None:
            self._wait(5.0)
        self._finish_deletion(api)

    def _finish_deletion(self, api: KubeletApi) -> None:
        self._signal(signal.SIGKILL)
        api.delete_pod_now(self.namespace, self.name, self.uid)
        while True:  # finalizers may keep the object a while; stay until the API says it is gone
            self._wait(5.0)

    def _signal(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)


def copy_stream(stream: IO[bytes] | None, name: str, path: Path, lock: threading.Lock) -> None:
    if stream is None:
        return
    with path.open("a", encoding="utf-8") as out:
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", errors="replace").rstrip("\n")
            with lock:
                out.write(format_line(name, text))
                out.flush()
    stream.close()
