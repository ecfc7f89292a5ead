"""A parent that forks tries (the LocalExecutor's fork server) rehearses one try first, so the tries forked
from it start with SQLAlchemy's statements compiled; the rehearsal leaves the database as it was."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import Engine, func, select

from tests.integration.runner.harness import DAG_ID, RUN_ID, SQLITE_ONLY, RunnerEnv
from tradewind.config.settings import Settings
from tradewind.core.workload import ExecuteTask
from tradewind.executors import local
from tradewind.runner import warm_start
from tradewind.runner.run_workload import REHEARSAL_DAG_ID, rehearse_try, run_task
from tradewind.store.tables import Base


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def test_a_rehearsal_compiles_statements_and_leaves_every_table_as_it_was(runner_env: RunnerEnv) -> None:
    runner_env.queue("make_list")
    engine = warm_start.new_runner_engine(runner_env.settings.database_url)
    try:
        before = _row_counts(engine)
        rehearse_try(engine)
        assert _row_counts(engine) == before
        assert len(engine._compiled_cache) >= 10  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.exec_driver_sql(
                f"SELECT count(*) FROM dag WHERE dag_id = '{REHEARSAL_DAG_ID}'").scalar_one() == 0
        rehearse_try(engine)  # and again: nothing was left behind to collide with
    finally:
        engine.dispose()


def _child(settings: Settings, workload_json: str, out: Connection) -> None:
    engine = warm_start.runner_engine(settings.database_url)
    cached_before = len(engine._compiled_cache)  # type: ignore[attr-defined]
    code = run_task(settings, ExecuteTask.model_validate_json(workload_json))
    out.send((code, cached_before, len(engine._compiled_cache)))  # type: ignore[attr-defined]


def test_a_try_forked_from_a_rehearsed_parent_compiles_nothing_new(runner_env: RunnerEnv) -> None:
    """The rehearsal runs the same code as a try: a real try forked afterwards finds every statement it
    sends already compiled, on SQLite and PostgreSQL."""
    url = runner_env.settings.database_url
    engine = warm_start.new_runner_engine(url)
    rehearse_try(engine)
    engine.dispose()
    warm_start.keep_warm_engine(url, engine)
    try:
        assert warm_start.runner_engine(url) is not engine  # not in the process that rehearsed
        runner_env.queue("make_list")
        workload = ExecuteTask(dag_id=DAG_ID, task_id="make_list", run_id=RUN_ID, try_number=1,
                               dag_rel_path="runner_basics.py")
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_child, args=(runner_env.settings, workload.model_dump_json(), send))
        child.start()
        assert receive.poll(60), "the forked try did not report"
        code, cached_before, cached_after = receive.recv()
        child.join(10)
    finally:
        warm_start._warm = None
    assert code == 0
    assert runner_env.ti("make_list").state == "success"
    assert runner_env.xcom("make_list") == [1, 2, 3]
    assert cached_before >= 10
    assert cached_after == cached_before


def test_a_forked_try_for_another_database_gets_its_own_engine(runner_env: RunnerEnv, tmp_path: Path) -> None:
    url = runner_env.settings.database_url
    engine = warm_start.new_runner_engine(url)
    warm_start.keep_warm_engine(f"sqlite:///{tmp_path / 'other.db'}", engine)
    try:
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=lambda: send.send(warm_start.runner_engine(url) is engine))
        child.start()
        assert receive.poll(30)
        assert receive.recv() is False
        child.join(10)
    finally:
        warm_start._warm = None
        engine.dispose()


def _import_warmup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import os\n"
        "import tradewind.runner.fork_server_warmup\n"
        "from tradewind.runner import warm_start\n"
        f"print(warm_start._warm is not None, {warm_start.FORK_SERVER_DATABASE_ENV!r} in os.environ)\n"
    )
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          check=True)


@SQLITE_ONLY
def test_the_fork_server_warm_up_keeps_an_engine_and_forgets_the_url(runner_env: RunnerEnv) -> None:
    env = {**os.environ, warm_start.FORK_SERVER_DATABASE_ENV: runner_env.settings.database_url}
    assert _import_warmup(env).stdout.split() == ["True", "False"]


def test_a_fork_server_whose_database_is_unreachable_starts_cold_and_says_so(tmp_path: Path) -> None:
    env = {**os.environ,
           warm_start.FORK_SERVER_DATABASE_ENV: "postgresql://nobody:s3cret@127.0.0.1:1/none"}
    done = _import_warmup(env)
    assert done.stdout.split() == ["False", "False"]
    assert "fork server warm-up skipped, tries start cold: OperationalError" in done.stderr
    assert "s3cret" not in done.stderr


def test_the_executor_and_the_fork_server_agree_on_the_variable_name() -> None:
    assert local.FORK_SERVER_DATABASE_ENV == warm_start.FORK_SERVER_DATABASE_ENV
    assert "tradewind.runner.fork_server_warmup" in local.FORK_SERVER_PRELOAD


@SQLITE_ONLY
def test_a_celery_worker_rehearses_before_its_pool_forks(runner_env: RunnerEnv) -> None:
    code = (
        "import os, sys\n"
        "from tradewind.executors.celery.runner_process import preload_runner\n"
        "from tradewind.runner import warm_start\n"
        "preload_runner(sys.argv[1])\n"
        f"print(warm_start._warm is not None, {warm_start.FORK_SERVER_DATABASE_ENV!r} in os.environ)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, runner_env.settings.database_url], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "False"]
