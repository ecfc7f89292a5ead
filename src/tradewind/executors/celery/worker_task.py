"""What a Celery worker does for one task try: check the workload message, run the runner, return its exit
code."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tradewind.config.settings import Settings
from tradewind.config.task_settings import runner_command_environment
from tradewind.core.workload import WORKLOAD_VERSION, ExecuteTask
from tradewind.executors.celery.runner_process import fork_runner, run_runner
from tradewind.executors.celery.warm_files import warm_files
from tradewind.executors.try_launcher import TryLauncher
from tradewind.sdk.errors import ExecutorError

log = logging.getLogger(__name__)

#: The one Celery task Tradewind registers; its only argument is the workload as a JSON object.
TASK_NAME = "tradewind.execute_workload"


def parse_workload(payload: Any) -> ExecuteTask:
    """Validate a message's workload, naming the field at fault."""
    if not isinstance(payload, dict):
        raise ExecutorError(f"{TASK_NAME}: the workload must be a JSON object, got {type(payload).__name__}")
    version = payload.get("version", WORKLOAD_VERSION)
    if isinstance(version, int) and version > WORKLOAD_VERSION:
        raise ExecutorError(
            f"{TASK_NAME}: workload version {version} is newer than this worker understands "
            f"({WORKLOAD_VERSION}); upgrade the worker"
        )
    try:
        return ExecuteTask.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise ExecutorError(f"{TASK_NAME}: invalid workload field {field!r}: {err['msg']}") from None


@dataclass(frozen=True)
class RunnerLaunch:
    """How a worker starts the runner for a try: exec ``executable tasks run ...``, or, when ``launcher``
    is given (what the CLI builds from the runner), fork the pre-imported worker and run the try with it."""

    executable: str
    launcher: TryLauncher | None = None
    #: The worker's settings: what a forked try runs with, and the secret ones taken out of what a try
    #: is given.
    settings: Settings | None = None


def execute_workload(payload: Any, *, launch: RunnerLaunch) -> int:
    """The body of the Celery task: validate the workload, run the runner, return its exit code."""
    workload = parse_workload(payload)
    if launch.launcher is not None and launch.settings is not None:
        warm_files.ensure(launch.settings, launch.launcher, workload.dag_rel_path)
        log.info("running %s in a forked runner", workload.try_key)
        code = fork_runner(launch.settings, workload, launch.launcher.run)
    else:
        command = workload.command(executable=launch.executable)
        log.info("running %s: %s", workload.try_key, " ".join(command))
        code = run_runner(command, env=runner_command_environment(os.environ, launch.settings, workload))
    log.info("%s: runner exited with code %s", workload.try_key, code)
    return code
