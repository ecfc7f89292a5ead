"""The ExecuteTask workload: the data-only message an executor carries to compute. No code; its one secret,
the try's token, is kept out of its repr."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradewind.core.keys import TaskInstanceKey, TaskTryKey

WORKLOAD_VERSION = 1
#: The environment variable a runner started as a command (`tradewind tasks run`) finds its task token in;
#: the runner removes it from its environment before any task code runs.
TASK_TOKEN_ENV = "TRADEWIND_TASK_TOKEN"


class ExecuteTask(BaseModel):
    """Which task try to run. Serialises to a small JSON document (Celery message, pod annotation)."""

    model_config = ConfigDict(frozen=True)

    version: int = WORKLOAD_VERSION
    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    try_number: int = 1
    queue: str = "default"
    pool: str = "default_pool"
    priority_weight: int = 1
    #: The DAG file relative to the DAG folder, so a worker with another mount point finds it.
    dag_rel_path: str = ""
    executor_config: dict[str, Any] = Field(default_factory=dict)
    #: Where the runner reaches the execution API (a worker's own ``[execution_api] url`` wins).
    api_url: str = ""
    #: The try's claim token (execution.tokens): never in a repr, a log line or a pod spec. Empty for
    #: tries run in process on the database (`dags test`).
    token: str = Field(default="", repr=False)

    def without_token(self) -> ExecuteTask:
        return self.model_copy(update={"token": ""})

    @property
    def ti_key(self) -> TaskInstanceKey:
        return TaskInstanceKey.of(self)

    @property
    def try_key(self) -> TaskTryKey:
        return TaskTryKey(self.ti_key, self.try_number)

    def command(self, executable: str = "tradewind") -> list[str]:
        """The runner command: the same in a subprocess, a Celery worker and a pod."""
        cmd = [executable, "tasks", "run", self.dag_id, self.task_id, self.run_id]
        if self.map_index >= 0:
            cmd += ["--map-index", str(self.map_index)]
        cmd += ["--try-number", str(self.try_number)]
        if self.dag_rel_path:
            cmd += ["--subdir", self.dag_rel_path]
        return cmd
