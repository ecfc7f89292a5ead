"""Imported by the LocalExecutor's fork server, and by nothing else: importing it is the warm-up.

A fork server can only be told which modules to import, so this module does its work when imported: the one
place in Tradewind where importing does more than define things. It reads the database URL the executor put
in the fork server's environment (and removes it there), rehearses one try against that database
(``run_workload.rehearse_try``: everything rolled back) and keeps the engine for the tries forked afterwards
(``warm_start``). If anything fails, tries simply start cold; the fork server must never fail to start.
"""

from __future__ import annotations

import logging
import os

from tradewind.runner.run_workload import rehearse_try
from tradewind.runner.warm_start import FORK_SERVER_DATABASE_ENV, keep_warm_engine, new_runner_engine

log = logging.getLogger(__name__)


def _warm_up() -> None:
    url = os.environ.pop(FORK_SERVER_DATABASE_ENV, None)
    if not url:
        return
    try:
        engine = new_runner_engine(url)
        rehearse_try(engine)
        engine.dispose()  # children open their own connections
    except Exception as exc:
        log.warning("fork server warm-up skipped, tries start cold: %s", type(exc).__name__)
        return
    keep_warm_engine(url, engine)


_warm_up()
