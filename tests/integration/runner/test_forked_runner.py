"""The runner in a process forked from a pre-imported parent (the LocalExecutor's fork mode), reaching shared
state only through the execution API, with no database credentials anywhere in the task's process."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.runner.harness import DAG_ID, RUN_ID, RunnerEnv, run_through_executor, runner_database
from tradewind.api.execution.embedded import EmbeddedExecutionApi
from tradewind.config.settings import Settings, load_settings
from tradewind.core.events import TryProcessEvent
from tradewind.core.workload import ExecuteTask
from tradewind.execution.tokens import WorkloadTokens, signer_from_settings

PASSWORD = "pg-s3cret-never-in-tasks"


@pytest.fixture
def secret_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test database's URL with a password in it (trust authentication ignores it on PostgreSQL)."""
    url = settings.database_url
    if url.startswith("postgresql"):
        parts = urlsplit(url)
        netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
        url = urlunsplit(parts._replace(netloc=netloc))
        monkeypatch.setenv("TRADEWIND__DATABASE__URL", url)
    return load_settings()


@pytest.fixture
def api_env(secret_settings: Settings, tw_home, tmp_path) -> Iterator[tuple[RunnerEnv, WorkloadTokens]]:  # type: ignore[no-untyped-def]
    with runner_database(secret_settings, tw_home, tmp_path) as env:
        server = EmbeddedExecutionApi(secret_settings)
        url = server.start()
        try:
            yield env, WorkloadTokens(signer_from_settings(secret_settings), url)
        finally:
            server.stop()


#: Every token handed out by ``_run``, to check none reaches a log.
ISSUED: list[str] = []


def _run(env: RunnerEnv, tokens: WorkloadTokens, task_ids: list[str]) -> dict[str, TryProcessEvent]:
    outcome, issued = run_through_executor(env, tokens, task_ids)
    ISSUED.extend(issued)
    return outcome


def test_forked_runner_records_outcomes_and_logs(api_env: tuple[RunnerEnv, WorkloadTokens]) -> None:
    env, tokens = api_env
    outcome = _run(env, tokens, ["bash_echo", "python_fail"])
    assert outcome == {"bash_echo": TryProcessEvent.EXITED_CLEANLY, "python_fail": TryProcessEvent.FAILED}  # exit codes 0 and 1
    assert env.ti("bash_echo").state == "success"
    assert env.ti("python_fail").state == "up_for_retry"  # the server decided: retries are left
    assert env.xcom("bash_echo") == "last-line"  # pushed through the API
    assert "hello world on 2024-01-01" in env.log("bash_echo")
    assert "ValueError: boom from python_fail" in env.log("python_fail")


def test_task_code_holds_no_database_credentials(api_env: tuple[RunnerEnv, WorkloadTokens]) -> None:
    """Not in its environment, not in the environment its process started with (/proc/self/environ), not in
    the settings the runner was handed: the try reached the database only through the execution API."""
    env, tokens = api_env
    attached = tokens.attach(ExecuteTask(dag_id=DAG_ID, task_id="environment_probe", run_id=RUN_ID))
    assert attached.token and attached.token not in repr(attached)
    assert "TRADEWIND__DATABASE__URL" in env.env  # the scheduler's environment has it
    assert _run(env, tokens, ["environment_probe"]) == {"environment_probe": TryProcessEvent.EXITED_CLEANLY}
    seen = env.xcom("environment_probe")
    assert seen["orm_loaded"] is False  # the try talked HTTP: no SQLAlchemy in its process
    database_url = env.settings.database_url
    assert not [name for name in seen["environ"] if "DATABASE" in name.upper()]
    assert "TRADEWIND__DATABASE__URL" not in seen["initial"]
    for text in (str(seen["environ"]), seen["initial"], env.log("environment_probe")):
        assert database_url not in text
        assert PASSWORD not in text
        assert "TRADEWIND_TASK_TOKEN" not in text
        assert not [token for token in ISSUED if token in text]


@ON_SQLITE_ONLY
def test_a_restarted_fork_server_holds_no_database_credentials_either(
    api_env: tuple[RunnerEnv, WorkloadTokens],
) -> None:
    """The fork server every try is forked from dies (OOM killer, a stray kill): the executor starts it
    again, and again without the secrets in the environment it starts with."""
    import multiprocessing.forkserver
    import os
    import signal

    env, tokens = api_env
    assert _run(env, tokens, ["bash_echo"]) == {"bash_echo": TryProcessEvent.EXITED_CLEANLY}
    server_pid = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    assert server_pid is not None
    os.kill(server_pid, signal.SIGKILL)
    assert _run(env, tokens, ["environment_probe"]) == {"environment_probe": TryProcessEvent.EXITED_CLEANLY}
    assert multiprocessing.forkserver._forkserver._forkserver_pid != server_pid  # type: ignore[attr-defined]
    seen = env.xcom("environment_probe")
    assert "TRADEWIND__DATABASE__URL" not in seen["initial"]
    assert env.settings.database_url not in seen["initial"]
    assert PASSWORD not in seen["initial"]
