"""Uploading a try's log to the remote store once the runner has stopped writing it.

The runner has no database credentials: it looks the store's connection up through its try channel, so that
happens before the try's end is reported (the task token is refused after that); the upload itself comes
after the log capture has stopped, so the remote copy holds every line, callbacks' included.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from tradewind.config.settings import Settings
from tradewind.core.states import TaskInstanceState
from tradewind.logs.remote_store import FsspecLogStore, remote_log_store
from tradewind.logs.upload import upload_log
from tradewind.sdk.errors import ConfigError
from tradewind.sdk.runtime import TaskRuntime

log = logging.getLogger("tradewind.logs")

#: Endings after which the same try goes on later, appending to its local file: that file must stay.
_GOES_ON = frozenset({TaskInstanceState.DEFERRED, TaskInstanceState.UP_FOR_RESCHEDULE})


class TryLogUpload:
    """The upload of one log file; does nothing when ``[logging] remote_base_log_folder`` is empty."""

    def __init__(
        self, settings: Settings, local: Path, relative: PurePosixPath, runtime: TaskRuntime
    ) -> None:
        self.local = local
        self.relative = relative
        self.delete_local = settings.logging.delete_local_logs
        self._runtime = runtime
        self._store: FsspecLogStore | None = None
        try:
            self._store = remote_log_store(settings, runtime.get_connection)
        except ConfigError as exc:  # a bad setting must not fail the try: its log stays local
            log.warning("not uploading the log %s: %s", local, exc)
        self._pinned = False
        #: Whether nothing more is written to the file (the try ended for good): only then may the local copy
        #: be deleted after the upload.
        self.finished = False

    @property
    def enabled(self) -> bool:
        return self._store is not None

    def prepare(self) -> None:
        """Look the store's connection up now, while the try's token is accepted."""
        if self._store is not None and not self._pinned:
            self._store = self._store.pinned()
            self._pinned = True

    def ended(self, final: TaskInstanceState | None) -> None:
        """The try's end was reported as ``final`` (None: someone else's state, unknown)."""
        self.finished = final is not None and final not in _GOES_ON

    def upload(self) -> bool:
        """Upload the file (a failure is logged and noted in the file, never raised); True when it is there.
        The local copy is deleted when asked to, unless the try goes on later (deferred, rescheduled)."""
        if self._store is None:
            return False
        self.prepare()
        return upload_log(
            self._store, self.local, self.relative, delete_local=self.delete_local and self.finished
        )
