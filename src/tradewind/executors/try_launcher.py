"""What runs one task try inside a process an executor forks (the LocalExecutor's fork server, a Celery
worker): the runner's entry point and the modules to import before forking. The composition root (the CLI)
builds it from the runner and hands it to the executors, so no executor names the runner."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from tradewind.config.settings import Settings
from tradewind.core.workload import ExecuteTask

#: Runs the try a workload names in this process and returns the exit code, as `tradewind tasks run` does.
RunTry = Callable[[Settings, ExecuteTask], int]
#: Imports the DAG file at a path relative to the DAG folder into this process for the tries forked from it
#: (a warm parent, ADR 0017); False when it could not.
ImportDagFile = Callable[[Settings, str], bool]


@dataclass(frozen=True)
class TryLauncher:
    #: A module-level function: the fork server's child receives it pickled, by its module and name.
    run: RunTry
    #: Modules imported once before forking, so each forked try starts with them loaded.
    preload: tuple[str, ...]
    #: A module-level function too; None: no warm parents, every try imports its DAG file.
    import_dag_file: ImportDagFile | None = None

    def preload_modules(self) -> None:
        for module_name in self.preload:
            importlib.import_module(module_name)
