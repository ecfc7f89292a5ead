"""One pod's life on the container kubelet: its containers run with podman from the pod's images.

The life is the process kubelet's (updates, waiting, faults, deletion, reports: PodWorker), with every
container of the pod: init containers one after another, sidecars (init containers with restartPolicy
Always) started among them and stopped after the main containers, then the main containers together.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tradewind.testing.container_kubelet.container_command import container_argv
from tradewind.testing.container_kubelet.container_options import resource_args, security_args
from tradewind.testing.container_kubelet.pod_status import PodStatusBook, is_sidecar
from tradewind.testing.container_kubelet.pod_volumes import PodVolumes
from tradewind.testing.container_kubelet.podman import (
    KUBELET_LABEL,
    NODE_LABEL,
    ContainerEngine,
    EngineError,
    ImageConfig,
)
from tradewind.testing.fake_kubernetes.faults import PodFault
from tradewind.testing.node_logs import container_log_path, parse_line
from tradewind.testing.process_kubelet.api import KubeletApi
from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.container_env import ContainerConfigError, resolve_env
from tradewind.testing.process_kubelet.pod_status import NODE_IP
from tradewind.testing.process_kubelet.pod_worker import EVICTION_MESSAGE, PodWorker, copy_stream

Obj = dict[str, Any]
#: Variables podman itself needs: given to a container on podman's command line, not through its environment.
_ENGINE_ENV = {"PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ"}
_ENGINE_ENV_PREFIXES = ("XDG_", "CONTAINERS_", "PODMAN_", "_CONTAINERS", "CONMON", "BUILDAH_", "STORAGE_")


class ContainerRun:
    """One started container: podman attached to it, its output copied into the node's log file."""

    def __init__(
        self, name: str, container_id: str, log_path: Path, on_exit: Callable[[ContainerRun], None]
    ) -> None:
        self.name = name
        self.id = container_id
        self.log_path = log_path
        self.exited = False
        self.stopping = False
        self._on_exit = on_exit

    def start(self, engine: ContainerEngine) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        process = engine.start_attached(self.id)
        lock = threading.Lock()
        readers = [
            threading.Thread(target=copy_stream, args=(stream, label, self.log_path, lock), daemon=True)
            for stream, label in ((process.stdout, "stdout"), (process.stderr, "stderr"))
        ]
        for reader in readers:
            reader.start()

        def reap() -> None:
            process.wait()
            for reader in readers:
                reader.join(timeout=5)
            self._on_exit(self)

        threading.Thread(target=reap, name=f"container-{self.name}", daemon=True).start()


class ContainerPodWorker(PodWorker):
    def __init__(self, config: KubeletConfig, pod: Obj, engine: ContainerEngine, instance: str) -> None:
        super().__init__(config, pod)
        self.engine = engine
        self.instance = instance
        self.root = config.log_dir.parent / "pods" / self.uid
        self.volumes = PodVolumes(config, pod, self.root)
        self.book = PodStatusBook(pod)
        self._envs: dict[str, dict[str, str]] = {}
        self._images: dict[str, ImageConfig] = {}
        self._runs: dict[str, ContainerRun] = {}
        self._created: list[str] = []

    # -- configuration ------------------------------------------------------------------------------
    def _containers(self) -> list[Obj]:
        return [*(self.pod["spec"].get("initContainers") or []), *self.pod["spec"]["containers"]]

    def _configure(self, api: KubeletApi) -> dict[str, str]:
        self.volumes.set_up(api)
        # status.podIP and hostIP are known to the kubelet before the containers start.
        seen = {**self.pod, "status": {**(self.pod.get("status") or {}), "podIP": NODE_IP, "hostIP": NODE_IP}}
        host = self._base_env()  # the API server's address, as a kubelet gives every container
        base = {key: host[key] for key in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")}
        self._envs = {c["name"]: resolve_env(api, seen, c, base) for c in self._containers()}
        return self._envs[self.container["name"]]

    def _pull_images(self, api: KubeletApi) -> bool:
        for container in self._containers():
            reference = container.get("image", "")
            if reference in self._images:
                continue
            if self._fault == PodFault.IMAGE_PULL:
                return self._pull(api, self.book, reference)
            image = self.engine.image(reference)
            if image is None:
                self._image_missing(api, reference)
                return False
            api.record_event(
                self.pod, "Normal", "Pulled", f'Container image "{reference}" already present on machine'
            )
            self._images[reference] = image
        return True

    def _image_missing(self, api: KubeletApi, reference: str) -> None:
        message = (
            f'Failed to pull image "{reference}": the container kubelet pulls nothing, and the node has no '
            f'image "{reference}"'
        )
        api.record_event(self.pod, "Warning", "Failed", message)
        self._report(api, self.book.waiting("ErrImagePull", message))
        self._wait(0.3)
        api.record_event(self.pod, "Normal", "BackOff", f'Back-off pulling image "{reference}"')
        self._report(api, self.book.waiting("ImagePullBackOff", f'Back-off pulling image "{reference}"'))
        self._await_deletion(api)

    def _create_args(self, container: Obj) -> tuple[list[str], dict[str, str]]:
        image = self._images[container["image"]]
        env = self._envs[container["name"]]
        argv = container_argv(container, image, env)
        meta = self.pod["metadata"]
        args = [
            "--name",
            f"k8s_{container['name']}_{self.name}_{self.namespace}_{self.uid[:8]}",
            "--label",
            f"{NODE_LABEL}={self.config.node_name}",
            "--label",
            f"{KUBELET_LABEL}={self.instance}",
            "--label",
            f"io.kubernetes.pod.uid={self.uid}",
            "--label",
            f"io.kubernetes.pod.name={meta['name']}",
            "--label",
            f"io.kubernetes.container.name={container['name']}",
            "--hostname",
            self.name[:63],
            "--pull",
            "never",
            *security_args(self.pod, container, image),
            *resource_args(container),
            *self.volumes.mount_args(container),
        ]
        if container.get("workingDir"):
            args += ["--workdir", container["workingDir"]]
        engine_env = dict(os.environ)
        for name, value in env.items():
            if name in _ENGINE_ENV or name.startswith(_ENGINE_ENV_PREFIXES):
                args += ["--env", f"{name}={value}"]
            else:  # through podman's own environment: values (secrets) stay off command lines
                engine_env[name] = value
                args += ["--env", name]
        if not argv:
            raise ContainerConfigError("no command specified")
        args += ["--entrypoint", json.dumps(argv[:1]), container["image"], *argv[1:]]
        return args, engine_env

    # -- the life -----------------------------------------------------------------------------------
    def _live(self, api: KubeletApi) -> None:
        book = self.book
        self._report(api, book.document())
        if not self._pull_images(api):
            return
        if self._prepare(api, book) is None:
            return
        init_ok = True
        for container in self.pod["spec"].get("initContainers") or []:
            if not self._start_container(api, container):
                return
            if not is_sidecar(container) and not self._await_init(api, container):
                init_ok = False
                break
        if init_ok:
            book.initialized = True
            for container in self.pod["spec"]["containers"]:
                if not self._start_container(api, container):
                    self._stop_all(api)
                    return
            book.phase = "Running"
            self._report(api, book.document())
            self._supervise_main(api)
        self._stop_sidecars(api)
        if init_ok:
            book.finish()
        else:
            book.phase = "Failed"
        self._report(api, book.document())
        self._await_deletion(api)

    def _start_container(self, api: KubeletApi, container: Obj) -> bool:
        """Create and start one container; False (reported, waiting for deletion) when it cannot be."""
        name = container["name"]
        try:
            args, engine_env = self._create_args(container)
        except ContainerConfigError as exc:
            return self._cannot_start(api, name, "CreateContainerConfigError", str(exc))
        try:
            container_id = self.engine.create(args, engine_env)
        except EngineError as exc:
            return self._cannot_start(api, name, "CreateContainerError", str(exc))
        self._created.append(container_id)
        api.record_event(self.pod, "Normal", "Created", f"Created container: {name}")
        run = ContainerRun(
            name,
            container_id,
            container_log_path(self.config.log_dir, self.namespace, self.name, self.uid, name),
            self._container_exited,
        )
        try:
            run.start(self.engine)
        except EngineError as exc:
            return self._cannot_start(api, name, "CreateContainerError", str(exc))
        self._runs[name] = run
        api.record_event(self.pod, "Normal", "Started", f"Started container: {name}")
        self.book.set_running(name, f"podman://{container_id}")
        self._report(api, self.book.document())
        return True

    def _container_exited(self, run: ContainerRun) -> None:
        with self._cond:
            run.exited = True
            self._exited = True  # wakes PodWorker._wait(until_exit=True)
            self._cond.notify_all()

    def _cannot_start(self, api: KubeletApi, name: str, reason: str, message: str) -> bool:
        api.record_event(self.pod, "Warning", "Failed", f"Error: {message}")
        self.book.set_waiting(name, reason, message)
        self._report(api, self.book.document())
        self._stop_all(api)
        self._await_deletion(api)
        return False

    def _await_init(self, api: KubeletApi, container: Obj) -> bool:
        run = self._runs[container["name"]]
        while not run.exited:
            if self._deletion_grace is not None:
                self._stop_all(api)
                self._finish_deletion(api)
            self._wait(1.0, until_exit=True)
            with self._cond:
                self._exited = run.exited  # a sidecar that ended must not keep waking this loop
        return self._record_end(run, oom=False) == 0

    def _supervise_main(self, api: KubeletApi) -> None:
        """Wait for the main containers, stopping them for deletion (the grace period), OOM or eviction."""
        mains = [self._runs[c["name"]] for c in self.pod["spec"]["containers"]]
        oom = evicted = False
        while not all(run.exited for run in mains):
            grace, fault = self._deletion_grace, self._fault
            if grace is not None:
                self._stop_runs(api, mains, grace)
            if fault == PodFault.OOM_KILLED and not oom:
                oom = True
                self._wait(self.config.oom_after_seconds)
                for run in mains:
                    self.engine.kill(run.id)
            if fault == PodFault.EVICTED and not evicted:
                evicted = True
                api.record_event(self.pod, "Warning", "Evicted", EVICTION_MESSAGE)
                for run in mains:
                    self.engine.kill(run.id)
            self._wait(0.2 if grace is not None or fault else 1.0, until_exit=True)
            with self._cond:
                self._exited = all(run.exited for run in mains)
        for run in mains:
            self._record_end(run, oom=oom)
        if evicted:
            self.book.reason, self.book.message = "Evicted", EVICTION_MESSAGE

    def _stop_runs(self, api: KubeletApi, runs: list[ContainerRun], grace: int) -> None:
        """``podman stop`` each running container once (the stop signal, SIGKILL after ``grace``), in parallel."""
        chosen = [run for run in runs if not run.stopping and not run.exited]
        for run in chosen:
            run.stopping = True
            api.record_event(self.pod, "Normal", "Killing", f"Stopping container {run.name}")
            threading.Thread(target=self.engine.stop, args=(run.id, grace), daemon=True).start()

    def _record_end(self, run: ContainerRun, *, oom: bool) -> int:
        try:
            state = self.engine.state(run.id)
        except EngineError as exc:
            self.book.set_terminated(run.name, 137, "Error", f"the container is gone: {exc}")
            return 137
        if not state.started:
            # The runtime's reason is podman's last word, which its attached start wrote to the log.
            said = [
                line.text
                for line in map(parse_line, _lines(run.log_path))
                if line and line.stream == "stderr"
            ]
            message = state.error or (said[-1] if said else "the container did not start")
            self.book.set_terminated(run.name, 128, "StartError", message)
            return 128
        if state.oom_killed or oom:
            # The container's own exit code: 137 when the OOM killer took PID 1, the runner's own when it
            # outlived a killed child (a kubelet reports OOMKilled with either).
            self.book.set_terminated(run.name, state.exit_code, "OOMKilled")
            return state.exit_code
        self.book.set_terminated(run.name, state.exit_code, "Completed" if state.exit_code == 0 else "Error")
        return state.exit_code

    def _stop_sidecars(self, api: KubeletApi) -> None:
        """Sidecars stop after the main containers, the last started first."""
        grace = self._deletion_grace
        if grace is None:
            grace = int(self.pod["spec"].get("terminationGracePeriodSeconds", 30))
        sidecars = [
            self._runs[c["name"]]
            for c in reversed(self.pod["spec"].get("initContainers") or [])
            if is_sidecar(c) and c["name"] in self._runs
        ]
        for run in sidecars:
            if not run.exited:
                api.record_event(self.pod, "Normal", "Killing", f"Stopping container {run.name}")
                self.engine.stop(run.id, grace)
            with self._cond:
                if not run.exited:
                    self._cond.wait(5.0)  # podman stop returned: its attach ends at once
            self._record_end(run, oom=False)

    def _stop_all(self, api: KubeletApi) -> None:
        runs = [run for run in self._runs.values() if not run.exited]
        grace = self._deletion_grace or 0
        with ThreadPoolExecutor(max_workers=max(1, len(runs))) as pool:
            for run in runs:
                pool.submit(self.engine.stop, run.id, grace)
        for run in runs:
            self._record_end(run, oom=False)

    def _signal(self, sig: signal.Signals) -> None:
        """Only ever SIGKILL here (kubelet shutdown, the pod's end): remove its containers and its folder."""
        if sig != signal.SIGKILL:
            return
        self.engine.remove(*self._created)
        shutil.rmtree(self.root, ignore_errors=True)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []
