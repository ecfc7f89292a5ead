"""Where the webserver (and `tradewind tasks logs`) reads task logs from: the log folder, the remote store (its
connection looked up through the secrets backends) and, with the Kubernetes executor, the running worker pods.
The scheduler builds its remote store here too, for the Kubernetes executor's uploads."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from tradewind.config.settings import Settings
from tradewind.logs.reading import LiveLog, TryLogReader
from tradewind.logs.remote_store import FsspecLogStore, fields_of, remote_log_store
from tradewind.sdk.errors import TradewindError

log = logging.getLogger(__name__)


def build_log_reader(settings: Settings, read_factory: sessionmaker[Session]) -> TryLogReader:
    return TryLogReader(settings.base_log_folder, remote=remote_store(settings, read_factory),
                        live=_live_log(settings))  # fmt: skip


def remote_store(settings: Settings, factory: sessionmaker[Session]) -> FsspecLogStore | None:
    """The remote log store, its connection looked up through the secrets backends (the database last)."""
    if not settings.logging.remote_base_log_folder.strip():
        return None
    # Only a process with a remote store loads the backends (and the cipher of the connections table) here.
    from tradewind.secrets.chain import secrets_chain

    chain = secrets_chain(settings, factory)
    return remote_log_store(settings, lambda conn_id: fields_of(chain.get_connection(conn_id)))


def _live_log(settings: Settings) -> LiveLog | None:
    """The running pods' output, when tries run as pods; a webserver that cannot reach the cluster still
    serves the other sources (and says so in its log)."""
    if settings.core.executor != "kubernetes":
        return None
    try:
        from tradewind.executors.kubernetes.live_output import PodLiveLog  # the kubernetes client, only here
    except ImportError as exc:
        log.warning("running pods' output is not readable: the kubernetes package is missing (%s)", exc)
        return None
    try:
        return PodLiveLog.from_settings(settings.kubernetes)
    except TradewindError as exc:
        log.info("running pods' output is not readable here: %s", exc)
        return None
