"""A try's Celery state the moment a worker stores it: the Redis result backend publishes every result it
stores on a pub/sub channel named like the result's key; one pub/sub connection follows the channels of the
tries in flight, so the executor frees a try's slot without waiting for its next read of the backend.

Pub/sub delivers at most once (a message published while the connection is down is lost), so the executor
still reads the backend now and then; this only makes the common case prompt.

The executor's Celery app uses ``SenderRedisBackend``: Celery's own result consumer would subscribe to each
sent task's channel on a connection nobody reads, where the subscriptions pile up (``sender_backend_url``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from celery.backends.redis import RedisBackend
from redis.client import PubSub

log = logging.getLogger(__name__)

#: ``task_id -> (status, result)``, as ``fetch_states`` returns them.
States = dict[str, tuple[str, Any]]


class SenderRedisBackend(RedisBackend):
    """Celery's Redis result backend, minus the subscription ``send_task`` makes for each task so that
    ``AsyncResult.get`` may wait on it: the executor never waits on an ``AsyncResult`` (``ResultChannel``
    follows the tries), and those subscriptions, made on a connection nobody reads, are never confirmed, so
    redis-py keeps every channel ever sent to (and would subscribe to them all again on a reconnect)."""

    def on_task_call(self, producer: Any, task_id: str) -> None:
        return None


_SENDER_BACKEND = f"{__name__}:{SenderRedisBackend.__name__}"


def sender_backend_url(url: str) -> str:
    """``url`` of a Redis result backend as the executor's app gives it to Celery, naming
    ``SenderRedisBackend`` (Celery reads ``module:Class+url``); any other URL unchanged."""
    if url.startswith(("redis://", "rediss://")):
        return f"{_SENDER_BACKEND}+{url}"
    if url.startswith("redis+socket://"):
        return f"{_SENDER_BACKEND}+{url.removeprefix('redis+')}"
    return url


class ResultChannel:
    """Owned by one thread (the executor's client thread): redis-py's pub/sub objects are not thread-safe."""

    def __init__(self, backend: RedisBackend) -> None:
        self._backend = backend
        # Confirmations are read like any message (and skipped): an ignored one would end a read with more
        # still buffered.
        self._pubsub: PubSub = backend.client.pubsub(ignore_subscribe_messages=False)
        #: Channel name -> task id, for the tries followed.
        self._followed: dict[bytes, str] = {}

    def follow(self, task_ids: Collection[str]) -> None:
        """Listen for exactly ``task_ids`` from now on: one SUBSCRIBE for the new ones, one UNSUBSCRIBE for
        those gone (neither waits for Redis to answer)."""
        wanted = {self._channel(task_id): task_id for task_id in task_ids}
        gone = [channel for channel in self._followed if channel not in wanted]
        new = [channel for channel in wanted if channel not in self._followed]
        if gone:
            self._pubsub.unsubscribe(*gone)
            for channel in gone:
                del self._followed[channel]
        if new:
            self._pubsub.subscribe(*new)
            self._followed.update((channel, wanted[channel]) for channel in new)

    def fileno(self) -> int | None:
        """The connection's socket, to wait on with ``select``; None while there is none (nothing followed
        yet, or reconnecting)."""
        connection = self._pubsub.connection
        # redis-py has no public accessor for a connection's socket.
        sock = getattr(connection, "_sock", None) if connection is not None else None
        return sock.fileno() if sock is not None else None

    def read(self) -> States:
        """The states published since the last read, without waiting; the latest per task id. Everything
        received is read, so the socket is quiet until more comes. Raises redis errors when the connection
        broke (redis-py subscribes again when it reconnects)."""
        states: States = {}
        if self._pubsub.connection is None:
            return states  # nothing followed yet
        while (message := self._pubsub.get_message(timeout=0.0)) is not None:
            if message.get("type") != "message":
                continue
            channel = message["channel"]
            task_id = self._followed.get(channel if isinstance(channel, bytes) else channel.encode())
            if task_id is None:
                continue  # unsubscribed since it was published
            meta = self._backend.decode_result(message["data"])
            states[task_id] = (meta["status"], meta.get("result"))
        return states

    def close(self) -> None:
        try:
            self._pubsub.close()
        except Exception as exc:  # the connection may be broken already; nothing to release then
            log.debug("closing the result channel: %s", exc)

    def _channel(self, task_id: str) -> bytes:
        key = self._backend.get_key_for_task(task_id)
        return key if isinstance(key, bytes) else key.encode()
