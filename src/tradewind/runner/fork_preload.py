"""The runner as executors fork it: its entry point and what a pre-imported parent (the LocalExecutor's fork
server, a Celery worker) imports once, so each forked try starts with it loaded. Kept out of
``run_workload``, the module every try runs."""

from __future__ import annotations

from pathlib import Path

from tradewind.config.settings import Settings
from tradewind.core.workload import ExecuteTask
from tradewind.executors.try_launcher import TryLauncher

#: A try talks HTTP to the execution API: no database driver, no ORM.
FORK_PRELOAD = (
    "tradewind.executors.local",
    "tradewind.runner.fork_preload",
    "tradewind.runner.run_workload",
    "tradewind.runner.api_channel",
    "tradewind.runner.api_transport",
    "http.client",
    # The codec of host names, imported at a process's first connection otherwise (~1.5 ms a try).
    "encodings.idna",
    # Task code's HTTP client (the http provider's hooks); it imports its transport lazily, at the first
    # client: ~35 ms a try would otherwise pay.
    "httpx",
    "httpcore",
    "tradewind.sdk.templating",
    "tradewind.sdk.operators.python",
    "tradewind.sdk.operators.bash",
    "tradewind.sdk.operators.empty",
    "tradewind.sdk.operators.branch",
    "tradewind.sdk.operators.decorated",
    "jinja2",
    "jinja2.ext",
    "jinja2.sandbox",
    "jinja2.nativetypes",
    "jsonschema",
)


def run_preloaded_task(settings: Settings, workload: ExecuteTask) -> int:
    """The runner's ``run_task`` (the code `tradewind tasks run` runs), imported when a try runs: the fork
    server and a Celery worker have it preloaded, and the scheduler that only hands this function on (by
    its module and name) never loads the runner, its HTTP client and the operators itself."""
    from tradewind.runner.run_workload import run_task

    return run_task(settings, workload)


def import_dag_file_ahead(settings: Settings, dag_rel_path: str) -> bool:
    """In a warm parent (ADR 0017): import the DAG file at ``dag_rel_path`` under the DAG folder once, for
    every try forked from this process. False when it is missing or fails to import (each try then imports it
    and reports why in its log)."""
    from tradewind.runner.api_transport import shared_ssl_context
    from tradewind.runner.imported_dag_files import import_ahead
    from tradewind.runner.run_workload import prepare_process
    from tradewind.runner.secrets_masking import masker_for_environment

    prepare_process(settings)  # as the try would before its import: Airflow's names, plugins
    if settings.execution_api.url.startswith("https"):
        shared_ssl_context()
    imported = import_ahead(Path(settings.dags_folder) / dag_rel_path, dags_folder=settings.dags_folder)
    # What every try would otherwise work out again: the secrets of its environment and settings (after the
    # import, which may have changed the environment).
    masker_for_environment(settings)
    return imported


def try_launcher() -> TryLauncher:
    """What the CLI hands the executors: ``run_preloaded_task``, the modules to preload and the DAG file
    import a warm parent does."""
    return TryLauncher(run=run_preloaded_task, preload=FORK_PRELOAD, import_dag_file=import_dag_file_ahead)
