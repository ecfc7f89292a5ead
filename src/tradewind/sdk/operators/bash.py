"""BashOperator: run a bash command in its own process group, streaming its output into the task log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError, TaskSkipped


def context_env_vars(context: Mapping[str, Any]) -> dict[str, str]:
    """``TRADEWIND_CTX_*`` variables that tell a subprocess which task try it belongs to."""
    ti = context.get("ti")
    logical_date = context.get("logical_date")
    values = {
        "TRADEWIND_CTX_DAG_ID": getattr(ti, "dag_id", None),
        "TRADEWIND_CTX_TASK_ID": getattr(ti, "task_id", None),
        "TRADEWIND_CTX_RUN_ID": context.get("run_id"),
        "TRADEWIND_CTX_TRY_NUMBER": context.get("try_number"),
        "TRADEWIND_CTX_MAP_INDEX": context.get("map_index"),
        "TRADEWIND_CTX_LOGICAL_DATE": logical_date.isoformat() if logical_date is not None else None,
    }
    return {k: str(v) for k, v in values.items() if v is not None}


class BashOperator(BaseOperator):
    """``BashOperator(task_id="x", bash_command="echo {{ ds }}")``; the last output line goes to XCom.

    A non-zero exit fails the task; an exit code in ``skip_on_exit_code`` (99 by default) skips it. A command
    ending in ``.sh`` or ``.bash`` names a template file found on the DAG's template search path.
    ``output_processor`` turns the last output line into the value pushed (e.g. ``json.loads``).
    """

    template_fields: Sequence[str] = ("bash_command", "env", "cwd")
    template_fields_renderers: dict[str, str] = {"bash_command": "bash", "env": "json"}
    template_ext: Sequence[str] = (".sh", ".bash")
    ui_color = "#f0ede4"
    #: How long on_kill waits after SIGTERM before it sends SIGKILL.
    kill_grace_seconds: float = 5.0

    def __init__(
        self,
        *,
        bash_command: str,
        env: Mapping[str, str] | None = None,
        append_env: bool = False,
        output_encoding: str = "utf-8",
        skip_on_exit_code: int | Container[int] | None = 99,
        cwd: str | None = None,
        output_processor: Callable[[str], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if output_processor is not None and not callable(output_processor):
            raise DagDefinitionError(
                f"BashOperator(task_id={kwargs.get('task_id')!r}): output_processor must be callable"
            )
        self.output_processor = output_processor
        self.bash_command = bash_command
        self.env = dict(env) if env is not None else None
        self.append_env = append_env
        self.output_encoding = output_encoding
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container[int] = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = skip_on_exit_code
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        super().__init__(**kwargs)

    def _environment(self, context: Mapping[str, Any]) -> dict[str, str]:
        if self.env is None:
            env = dict(os.environ)
        elif self.append_env:
            env = {**os.environ, **self.env}
        else:
            env = dict(self.env)
        env.update(context_env_vars(context))
        return env

    def execute(self, context: Mapping[str, Any]) -> Any:
        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise TaskExecutionError(f"task {self.task_id!r}: cwd {self.cwd!r} does not exist")
            if not os.path.isdir(self.cwd):
                raise TaskExecutionError(f"task {self.task_id!r}: cwd {self.cwd!r} is not a directory")
        with tempfile.TemporaryDirectory(prefix="tradewindtmp") as scratch:
            return_code, last_line = self._run(context, self.cwd or scratch)
        if return_code in self.skip_on_exit_code:
            raise TaskSkipped(f"Bash command returned exit code {return_code}; skipping the task.")
        if return_code != 0:
            raise TaskExecutionError(
                f"Bash command failed. The command returned a non-zero exit code {return_code}"
                f"{_signal_detail(return_code)}."
            )
        return self.output_processor(last_line) if self.output_processor is not None else last_line

    def _run(self, context: Mapping[str, Any], cwd: str) -> tuple[int, str]:
        # A new session makes the shell lead its own process group, so on_kill reaches its children too.
        process = subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=self._environment(context),
            start_new_session=True,
        )
        self._process = process
        last_line = ""
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            last_line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip()
            sys.stdout.write(last_line + "\n")
            sys.stdout.flush()
        return process.wait(), last_line

    def on_kill(self) -> None:
        """SIGTERM to the command's whole process group; SIGKILL if it is still there after a grace period."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=self.kill_grace_seconds)
                return
            except subprocess.TimeoutExpired:
                continue


def _signal_detail(return_code: int) -> str:
    """The signal an exit code says ended the command (the OOM killer's is SIGKILL): bash itself killed
    (a negative code), or bash reporting a command it ran killed (128 + the signal's number)."""
    number = -return_code if return_code < 0 else return_code - 128 if 128 < return_code < 160 else 0
    try:
        name = signal.Signals(number).name
    except ValueError:
        return ""
    return f" (killed by {name})" if return_code < 0 else f" (128 + {name}: how a shell reports a command killed by {name})"
