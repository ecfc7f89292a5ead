"""Warm parents (ADR 0017): the LocalExecutor forks a DAG file's tries from a process that imported the file
once, and each try is still its own process, killed alone and reported alone."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.runner.harness import SQLITE_ONLY, RunnerEnv, runner_database, with_dag_file
from tests.waiting import wait_for
from tradewind.api.execution.embedded import EmbeddedExecutionApi
from tradewind.config.settings import Settings
from tradewind.core.events import TaskEvent, TryProcessEvent
from tradewind.core.keys import TaskInstanceKey, TaskTryKey
from tradewind.core.workload import ExecuteTask
from tradewind.execution.tokens import WorkloadTokens, signer_from_settings
from tradewind.executors.local import LocalExecutor
from tradewind.runner.fork_preload import try_launcher

DAG_FILE = Path(__file__).with_name("dags") / "warm_import.py"
pytestmark = SQLITE_ONLY  # process handling: the database behind the execution API does not matter


class _Tries:
    """A LocalExecutor with warm parents, running tries of warm_import.py and collecting how they ended."""

    def __init__(self, env: RunnerEnv, tokens: WorkloadTokens) -> None:
        self.env, self.tokens = env, tokens
        self.executor = LocalExecutor(2, settings=env.settings, launcher=try_launcher(), env=env.env)
        self.ended: dict[TaskInstanceKey, TaskEvent] = {}
        #: task id -> the external id (pid) its STARTED event gave
        self.started: dict[str, str] = {}

    def start(self, task_id: str) -> int:
        key = self.env.queue(task_id)
        workload = ExecuteTask(
            dag_id=key.dag_id, task_id=task_id, run_id=key.run_id, dag_rel_path=DAG_FILE.name
        )
        return int(self.executor.queue_workload(self.tokens.attach(workload)) or 0)

    def wait_ended(self, *task_ids: str) -> dict[str, TaskEvent]:
        def all_ended() -> bool:
            for event in self.executor.get_events():
                if event.ended:
                    self.ended[event.key.ti] = event
                elif event.kind is TryProcessEvent.STARTED and event.external_id:
                    self.started[event.key.ti.task_id] = event.external_id
            return all(self.env.key(t) in self.ended for t in task_ids)

        wait_for(all_ended, timeout=60, what=f"the tries of {task_ids} to end")
        return {t: self.ended[self.env.key(t)] for t in task_ids}

    def imports(self) -> list[int]:
        return [int(line) for line in self.env.marker_lines("imports")]


@pytest.fixture
def tries(
    settings: Settings, tw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[_Tries]:
    with runner_database(settings, tw_home, tmp_path) as base:
        monkeypatch.setenv("TW_TEST_MARKERS", str(base.markers))  # storing the DAG imports it here too
        env = with_dag_file(base, DAG_FILE)
        server = EmbeddedExecutionApi(settings)
        url = server.start()
        runs = _Tries(env, WorkloadTokens(signer_from_settings(settings), url))
        runs.executor.start()
        try:
            yield runs
        finally:
            runs.executor.stop(wait=False)
            server.stop()


def _wait_warm(tries: _Tries) -> None:
    warm = tries.executor._warm
    assert warm is not None
    wait_for(lambda: warm.ready(DAG_FILE.name), what="the warm parent to have imported the DAG file")


def test_tries_fork_from_a_parent_that_imported_their_dag_file_once(tries: _Tries) -> None:
    before = len(tries.imports())  # storing the DAG imported it in this test process
    # No warm parent yet: one starts, and this try waits for its import instead of importing the file too.
    assert tries.start("whoami_0") == 0  # no pid yet: it comes with the STARTED event, once forked
    assert tries.wait_ended("whoami_0")["whoami_0"].kind is TryProcessEvent.EXITED_CLEANLY
    [parent] = tries.imports()[before:]
    first = tries.env.xcom("whoami_0")
    assert first["ppid"] == parent
    assert tries.started["whoami_0"] == str(first["pid"])
    pids = [tries.start("whoami_1"), tries.start("whoami_2")]
    ends = tries.wait_ended("whoami_1", "whoami_2")
    assert {e.kind for e in ends.values()} == {TryProcessEvent.EXITED_CLEANLY}
    seen = [tries.env.xcom(t) for t in ("whoami_1", "whoami_2")]
    assert [s["pid"] for s in seen] == pids and len(set(pids)) == 2  # a process per try
    assert {s["ppid"] for s in seen} == {parent}
    assert len(tries.imports()) == before + 1  # no try imported the file again
    assert tries.env.ti("whoami_2").state == "success"


def test_tries_waiting_for_a_parent_that_never_imports_the_file_start_cold(tries: _Tries) -> None:
    """A warm parent killed while it imports (the OOM killer, a hung import let go after the DAG processor's
    timeout) forks none of the tries waiting for it: each starts from the fork server instead, and runs."""
    (tries.env.markers / "hold").touch()
    before = len(tries.imports())
    tries.start("whoami_0")
    tries.start("whoami_1")
    [parent] = wait_for(lambda: tries.imports()[before:], what="the warm parent to start importing")
    os.kill(parent, signal.SIGKILL)
    (tries.env.markers / "hold").unlink()
    ends = tries.wait_ended("whoami_0", "whoami_1")
    assert {e.kind for e in ends.values()} == {TryProcessEvent.EXITED_CLEANLY}
    seen = [tries.env.xcom(t) for t in ("whoami_0", "whoami_1")]
    assert parent not in {s["ppid"] for s in seen}
    assert {s["pid"] for s in seen} <= set(tries.imports()[before:])  # each imported the file itself
    assert {tries.env.ti(t).state for t in ("whoami_0", "whoami_1")} == {"success"}
    assert all(tries.started[t] == str(s["pid"]) for t, s in zip(("whoami_0", "whoami_1"), seen, strict=True))


def test_a_parent_importing_for_longer_than_the_parse_timeout_is_let_go(tries: _Tries) -> None:
    """The executor's sync lets go of a warm parent that has imported its file for longer than the DAG
    processor's timeout for a file: its waiting tries start cold rather than wait for it forever."""
    (tries.env.markers / "hold").touch()
    before = len(tries.imports())
    tries.start("whoami_0")
    [parent] = wait_for(lambda: tries.imports()[before:], what="the warm parent to start importing")
    tries.executor.settings.scheduler.dag_file_processor_timeout = 0.01
    wait_for(lambda: tries.executor.sync() or not _alive(parent), what="the slow warm parent to be let go")
    (tries.env.markers / "hold").unlink()
    assert tries.wait_ended("whoami_0")["whoami_0"].kind is TryProcessEvent.EXITED_CLEANLY
    assert tries.env.xcom("whoami_0")["ppid"] != parent


def test_warm_tries_get_the_executors_environment_of_their_start(tries: _Tries) -> None:
    # The environment goes to the warm parent only when it changed; each try still gets the one of its start.
    tries.start("whoami_0")
    tries.wait_ended("whoami_0")
    _wait_warm(tries)
    assert tries.executor.env is not None
    without = dict(tries.executor.env)
    tries.executor.env = {**without, "TW_TEST_FLAVOUR": "mint"}
    tries.start("whoami_1")
    tries.wait_ended("whoami_1")
    tries.executor.env = without
    tries.start("whoami_2")
    tries.wait_ended("whoami_2")
    seen = [tries.env.xcom(t) for t in ("whoami_1", "whoami_2")]
    assert [s["flavour"] for s in seen] == ["mint", None]
    assert seen[0]["ppid"] == seen[1]["ppid"]  # both forked from the warm parent


def test_a_try_dies_with_its_warm_parent_and_is_reported_failed(tries: _Tries) -> None:
    tries.start("whoami_0")
    tries.wait_ended("whoami_0")
    _wait_warm(tries)
    pid = tries.start("wait")
    line = wait_for(lambda: tries.env.marker_lines("waiting"), what="the waiting try to start")[0]
    assert line.split()[0] == str(pid)
    os.kill(int(line.split()[1]), signal.SIGKILL)  # the OOM killer, a stray kill
    end = tries.wait_ended("wait")["wait"]
    assert end.kind is TryProcessEvent.FAILED
    wait_for(lambda: not _alive(pid), what="the try to die with its warm parent")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_the_executor_terminates_a_warm_try_alone(tries: _Tries) -> None:
    tries.start("whoami_0")
    tries.wait_ended("whoami_0")
    _wait_warm(tries)
    pid = tries.start("wait")
    wait_for(lambda: tries.env.marker_lines("waiting"), what="the waiting try to start")
    tries.executor.terminate(TaskTryKey(tries.env.key("wait"), 1))  # SIGTERM, then SIGKILL after a grace
    assert tries.wait_ended("wait")["wait"].kind is TryProcessEvent.FAILED
    assert not _alive(pid)
    assert tries.env.ti("wait").state in ("failed", "up_for_retry")  # the runner recorded its end
    tries.start("whoami_1")  # the warm parent goes on forking tries
    assert tries.wait_ended("whoami_1")["whoami_1"].kind is TryProcessEvent.EXITED_CLEANLY
