"""The executor against the fake cluster: a try whose pod failed to start comes back under a new pod name after
a growing delay, never beside a live earlier pod; the saved output says what happened to each pod."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api
from tests.integration.kubernetes.cluster_harness import EventLog, python_workload, worker_pods
from tests.waiting import wait_for

from tradewind.config.settings import KubernetesSettings
from tradewind.core.events import TryProcessEvent
from tradewind.core.log_paths import log_relative_path
from tradewind.executors.kubernetes.executor import KubernetesExecutor
from tradewind.executors.kubernetes.pod_identity import LAUNCH_ANNOTATION
from tradewind.testing.fake_cluster import FakeCluster
from tradewind.testing.fake_kubernetes.faults import PodFault

MakeExecutor = Callable[..., KubernetesExecutor]


class PodSightings:
    """Polls the try's pods: when each pod name was first seen, and the most live pods seen at once."""

    def __init__(self, api: CoreV1Api, selector: str) -> None:
        self.api, self.selector = api, selector
        self.first_seen: dict[str, float] = {}
        self.launch: dict[str, int] = {}
        self.most_live = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PodSightings:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def pod_of_launch(self, launch: int) -> str | None:
        return next((name for name, n in self.launch.items() if n == launch), None)

    def _poll(self) -> None:
        while not self._stop.wait(0.01):
            pods = worker_pods(self.api, selector=self.selector)
            now = time.monotonic()
            for pod in pods:
                self.first_seen.setdefault(pod.metadata.name, now)
                self.launch[pod.metadata.name] = int(pod.metadata.annotations[LAUNCH_ANNOTATION])
            live = [p for p in pods if not p.metadata.deletion_timestamp and p.status.phase not in ("Succeeded", "Failed")]
            self.most_live = max(self.most_live, len(live))


@pytest.fixture
def sightings(core_api: CoreV1Api) -> Iterator[PodSightings]:
    with PodSightings(core_api, "task_id=flaky") as seen:
        yield seen


def test_relaunches_get_new_names_and_growing_delays(
    fake_cluster: FakeCluster, k8s_settings: KubernetesSettings, make_executor: MakeExecutor,
    sightings: PodSightings, tmp_path: Path,
) -> None:
    settings = k8s_settings.model_copy(update={"pod_launch_retries": 3, "pod_relaunch_delay": 0.5})
    executor = make_executor(settings)
    events = EventLog(executor)
    fake_cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="task_id=flaky", count=3)
    workload = python_workload("flaky", "print('flaky ran at last')")
    waited: list[float] = []  # from the try being handed over to its pod appearing, per launch
    for launch in range(1, 5):
        handed_over = time.monotonic()
        executor.queue_workload(workload)  # what the scheduler does with a try given back as never started
        name = wait_for(partial(sightings.pod_of_launch, launch), timeout=30, what=f"the pod of launch {launch}")
        waited.append(sightings.first_seen[name] - handed_over)
        final = events.final(workload.try_key, timeout=30)
        events.events.clear()
        if launch < 4:
            assert final.never_started and final.reason is not None and "ErrImagePull" in final.reason
    assert final.kind == TryProcessEvent.EXITED_CLEANLY
    by_creation = sorted(sightings.first_seen, key=sightings.first_seen.__getitem__)
    assert [sightings.launch[n] for n in by_creation] == [1, 2, 3, 4]
    assert len(set(by_creation)) == 4, "each launch has its own pod name"
    assert waited[0] < waited[1] < waited[2] < waited[3], f"delays before each launch: {waited}"
    assert sightings.most_live == 1, "never two live pods for one try"
    log_file = tmp_path / "logs" / log_relative_path(workload.ti_key, 1)

    def whole_log() -> str | None:
        text = log_file.read_text()
        return text if "flaky ran at last" in text else None

    log = wait_for(whole_log, what="the last pod's output in the try's log")
    for name in by_creation:
        assert f"--- output of pod default/{name} " in log
    assert log.count("no output: the container never started") == 3 and "flaky ran at last" in log


def test_archive_says_what_happened_to_each_pod(
    fake_cluster: FakeCluster, core_api: CoreV1Api, k8s_settings: KubernetesSettings, make_executor: MakeExecutor,
    tmp_path: Path,
) -> None:
    executor = make_executor(k8s_settings.model_copy(update={"pod_launch_retries": 0}))
    events = EventLog(executor)
    fake_cluster.faults.fault_next_pods(PodFault.IMAGE_PULL, label_selector="task_id=unpulled")
    unpulled = python_workload("unpulled", "print('never printed')")
    silent = python_workload("silent", "pass")
    doomed = python_workload("doomed", "import time; print('doomed started', flush=True); time.sleep(60)")
    for workload in (unpulled, silent, doomed):
        executor.queue_workload(workload)
    events.wait(doomed.try_key, TryProcessEvent.STARTED)
    running = wait_for(lambda: [p for p in worker_pods(core_api, selector="task_id=doomed")
                                if p.status.phase == "Running"], what="the doomed pod running")
    core_api.delete_namespaced_pod(running[0].metadata.name, "default", grace_period_seconds=0)
    for workload in (unpulled, silent, doomed):
        events.final(workload.try_key, timeout=30)

    def log_of(task_id: str, text: str) -> str | None:
        path = tmp_path / "logs" / log_relative_path(python_workload(task_id, "").ti_key, 1)
        content = path.read_text() if path.exists() else ""
        return content if text in content else None

    never = wait_for(lambda: log_of("unpulled", "--- end of output"), what="the unpulled pod's archive")
    assert "no output: the container never started" in never and "ErrImagePull" in never
    quiet = wait_for(lambda: log_of("silent", "--- end of output"), what="the silent pod's archive")
    assert "no output: the container ran and wrote nothing" in quiet and "the pod succeeded" in quiet
    assert "never started" not in quiet
    gone = wait_for(lambda: log_of("doomed", "the pod was gone"), what="the deleted pod's note")
    assert "no output: the pod was gone before its output could be read" in gone


def test_with_a_shared_logs_volume_the_output_is_not_copied_twice(
    tmp_path: Path, make_executor: MakeExecutor,
) -> None:
    """The runner already wrote the try's lines into the shared file: the archive adds only the outcome."""
    shared = tmp_path / "shared-logs"
    with FakeCluster(tmp_path / "cluster2", claim_dirs={"logs": shared}) as cluster:
        settings = KubernetesSettings(config_file=cluster.kubeconfig_path, context=cluster.context, image="python:3.11",
                                      logs_volume_claim="logs", logs_mount_path=str(shared))
        executor = make_executor(settings, log_folder=shared)
        events = EventLog(executor)
        workload = python_workload("teed", "")
        target = shared / log_relative_path(workload.ti_key, 1)
        # Stands for the runner: one line into the try's log on the volume and the same line to stdout.
        code = (f"import pathlib; p = pathlib.Path({str(target)!r}); p.parent.mkdir(parents=True, exist_ok=True); "
                "line = '2026-01-01T00:00:00.000+00:00 written once\\n'; p.write_text(line); print(line, end='')")
        workload = python_workload("teed", code)
        executor.queue_workload(workload)
        assert events.final(workload.try_key, timeout=30).kind == TryProcessEvent.EXITED_CLEANLY
        wait_for(lambda: "the pod succeeded" in target.read_text(), what="the outcome line")
        text = target.read_text()
        assert text.count("written once") == 1, text
        assert "its output is above, written through the shared logs volume" in text
