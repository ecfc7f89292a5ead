"""Uploading a finished log to the remote store: a failure keeps the local copy and says why, never raises."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from tradewind.logs.remote_store import LogStore, describe_failure
from tradewind.sdk.errors import ExternalSystemError

log = logging.getLogger("tradewind.logs")


def upload_log(store: LogStore, local: Path, relative: PurePosixPath, *, delete_local: bool = False) -> bool:
    """Copy ``local`` to the store under ``relative``; True when it is there.

    On success, ``delete_local`` removes the local file. On failure the local file stays, the reason goes to
    the service log and is appended to the local file (so the log read from this machine says it too).
    """
    if not local.exists():
        return False
    try:
        store.upload(local, relative)
    except Exception as exc:
        reason = (
            str(exc)
            if isinstance(exc, ExternalSystemError)
            else f"uploading to {store.where(relative)} failed: {describe_failure(exc)}"
        )
        message = f"could not upload the log {local}; the local copy is kept: {reason}"
        log.warning("%s", message)
        _append_note(local, message)
        return False
    log.debug("uploaded the log %s to %s", local, store.where(relative))
    if delete_local:
        try:
            local.unlink()
        except OSError as exc:
            log.warning("uploaded the log %s but could not delete the local copy: %s", local, exc)
    return True


def _append_note(local: Path, message: str) -> None:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        with local.open("a", encoding="utf-8") as out:
            out.write(f"{stamp} WARNING tradewind.logs - {message}\n")
    except OSError as exc:
        log.warning("could not note the failed upload in %s: %s", local, exc)
