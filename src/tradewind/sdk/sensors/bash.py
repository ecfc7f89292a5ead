"""BashSensor: poke by running a bash command until it exits 0."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from tradewind.sdk.errors import TaskFailedNoRetry
from tradewind.sdk.operators.bash import context_env_vars
from tradewind.sdk.operators.python import emit
from tradewind.sdk.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    """Exit code 0: done. With ``retry_exit_code``, that code means "not yet" and any other fails the task
    without retry; without it, every non-zero code means "not yet"."""

    template_fields: Sequence[str] = ("bash_command", "env")
    template_ext: Sequence[str] = (".sh", ".bash")

    def __init__(
        self,
        *,
        bash_command: str,
        env: Mapping[str, str] | None = None,
        output_encoding: str = "utf-8",
        retry_exit_code: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.bash_command = bash_command
        self.env = dict(env) if env is not None else None
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code
        super().__init__(**kwargs)

    def poke(self, context: Mapping[str, Any]) -> bool:
        env = dict(self.env) if self.env is not None else dict(os.environ)
        env.update(context_env_vars(context))
        emit(f"Running command: {self.bash_command}")
        with tempfile.TemporaryDirectory(prefix="tradewind-sensor-") as cwd:
            done = subprocess.run(
                ["bash", "-c", self.bash_command],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                check=False,
            )
        for line in done.stdout.decode(self.output_encoding, errors="replace").splitlines():
            emit(line)
        emit(f"Command exited with return code {done.returncode}")
        if done.returncode == 0:
            return True
        if self.retry_exit_code is not None and done.returncode != self.retry_exit_code:
            raise TaskFailedNoRetry(f"command exited with return code {done.returncode}")
        return False
