"""The runner as executors fork it: its entry point and what a pre-imported parent (the LocalExecutor's fork
server, a Celery worker) imports once, so each forked try starts with it loaded. Kept out of
``run_workload``, the module every try runs."""

from __future__ import annotations

from tradewind.executors.try_launcher import TryLauncher
from tradewind.runner.run_workload import run_task

#: A try talks HTTP to the execution API: no database driver, no ORM.
FORK_PRELOAD = (
    "tradewind.executors.local",
    "tradewind.runner.run_workload",
    "tradewind.runner.api_channel",
    "httpx",
    # httpx imports its transport lazily, at the first client: ~35 ms a try would otherwise pay.
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


def try_launcher() -> TryLauncher:
    """What the CLI hands the executors: the runner's ``run_task`` (the code `tradewind tasks run` runs)."""
    return TryLauncher(run=run_task, preload=FORK_PRELOAD)
