"""DAG files a Celery pool process keeps imported (ADR 0031): the pool process is long-lived and forks each
try, so it is its tries' warm parent (ADR 0017): it imports a try's DAG file once, and every later try of
that file forked from it finds the file imported instead of importing it again.

At most ``core.warm_dag_files`` files per pool process (a module cannot be unloaded: a file past the limit is
imported by each of its tries, as before); a file is imported again when it changed on disk; one that failed
to import, or took longer than ``scheduler.dag_file_processor_timeout`` (the DAG processor's own limit for a
file), is left to its tries until it changes, so a slow or broken file never holds up a pool process for
longer than one try would wait for it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from tradewind.config.settings import Settings
from tradewind.core.file_stamps import file_stamp
from tradewind.executors.celery.runner_process import tasks_view
from tradewind.executors.try_launcher import TryLauncher

log = logging.getLogger(__name__)


class _ImportTooSlow(Exception):
    pass


class WarmFiles:
    """The DAG files this pool process has imported ahead of their tries, by path relative to the DAG folder,
    with the file's modification time and size at that import (or at the failed attempt)."""

    def __init__(self) -> None:
        self._stamps: dict[str, tuple[int, int]] = {}

    def ensure(self, settings: Settings, launcher: TryLauncher, rel_path: str) -> None:
        """Import ``rel_path`` here unless it is imported already (and unchanged), past the limit, or it was
        tried unchanged before. Never raises: a try imports its file itself whenever this did not."""
        limit = settings.core.warm_dag_files
        if not rel_path or limit <= 0 or launcher.import_dag_file is None:
            return
        stamp = file_stamp(Path(settings.dags_folder) / rel_path)
        if stamp is None:
            return
        known = self._stamps.get(rel_path)
        if known == stamp or (known is None and len(self._stamps) >= limit):
            return
        if not _can_bound():
            log.debug("SIGALRM is taken here: %s is left to its tries", rel_path)
            return
        self._stamps[rel_path] = stamp
        timeout = settings.scheduler.dag_file_processor_timeout
        started = time.monotonic()
        # The file's code runs as in a try: with the settings and environment a try gets (no secret settings).
        task_settings, environ = tasks_view(settings)
        try:
            with _time_limit(timeout), _environment(environ):
                imported = launcher.import_dag_file(task_settings, rel_path)
        except _ImportTooSlow:
            log.warning("importing %s ahead of its tries took over %g s; its tries import it themselves",
                        rel_path, timeout)  # fmt: skip
            return
        except Exception:  # user code: each try imports the file again and reports the error in its log
            log.debug("could not import %s ahead of its tries", rel_path, exc_info=True)
            return
        log.info("imported %s ahead of its tries in %.3f s%s", rel_path, time.monotonic() - started,
                 "" if imported else " (it failed: each try imports it and reports why)")  # fmt: skip


def _can_bound() -> bool:
    """Whether an import can be given a time limit here: SIGALRM needs the main thread, and nothing else
    using it (a pool process runs its task in its main thread, and Celery's time limits use other signals)."""
    return threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGALRM) in (
        signal.SIG_DFL,
        signal.SIG_IGN,
        None,
    )


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _ImportTooSlow in the block after ``seconds`` (SIGALRM: see ``_can_bound``)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _ImportTooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _environment(environ: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is ``environ`` in the block, and this process's own again after it."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


#: This process's warm files (a pool process runs one try at a time, each in its own fork).
warm_files = WarmFiles()
