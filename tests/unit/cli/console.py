"""`tradewind ARGS` in this process: ``tradewind.cli.main.main(argv)`` with its exit code and output captured.

Unit tests of the commands call this instead of starting the console script per command. The real process
is kept where it is the point: `tasks test` in tests/unit/cli/test_tasks.py (task code writes to the
process's stderr, and one test runs without a database), and the integration tests of the commands
(tests/integration/scheduler/test_dags_cli.py) check the console script's exit codes end to end.
"""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

from tradewind.cli.main import main


@dataclass(frozen=True, slots=True)
class CliResult:
    """What the command returned and printed; named like ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> CliResult:
    """Run ``tradewind *args`` with ``env`` added to the environment for this command only."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


#: Tests read as the command line they run: ``tradewind("pools", "list")``.
tradewind = run_cli
