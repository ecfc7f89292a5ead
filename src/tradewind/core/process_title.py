"""The title a forked service process shows in ``ps``, ``top`` and ``/proc/PID/cmdline``.

A child forked from a service (the DAG processor and execution API server of `tradewind scheduler`, the DAG
processor of `tradewind standalone`) keeps its parent's command line; without a title of its own an operator,
or a tool that finds processes by command line, could not tell it from its parent.

setproctitle, by default, makes room for a long title by moving the environment and overwriting the memory
``/proc/PID/environ`` shows. Every process that may retitle itself keeps it (``SPT_NOENV``, also Celery's
workers, which retitle their processes whenever setproctitle is installed): that memory is what tells a try's
process what it was started with, and what the checks that no secret reached a task read. Titles are then
limited to the length of the original command line, which a `tradewind` command's always exceeds."""

from __future__ import annotations

import os

#: setproctitle's switch: titles stay within the original command line; the environment's memory is left alone.
KEEP_ENVIRONMENT = "SPT_NOENV"


def keep_environment_on_retitle() -> None:
    """Before any setproctitle call of this process (ours or a library's): leave the environment in place."""
    os.environ.setdefault(KEEP_ENVIRONMENT, "1")


def set_process_title(title: str) -> None:
    """Show ``title`` as this process's command line (setproctitle: argv's memory on Linux) and name."""
    keep_environment_on_retitle()
    import setproctitle

    setproctitle.setproctitle(title)
