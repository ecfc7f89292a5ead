"""Notice a Redis broker that lost its data: restarted without persistence, or flushed.

Tries waiting in such a broker are gone, and nothing else would ever say so: the executor would carry them
forever and the scheduler would see them queued forever (Airflow's "stuck in queued"). So the executor keeps
one key in the broker, the broker's epoch: shared by every executor on that broker, created when missing.
When it vanishes or changes, the broker's data went with it, and the tries that had not started are sent
again. RabbitMQ needs no such check: Celery's queues there are durable and its messages persistent.
"""

from __future__ import annotations

import uuid

import redis

#: The key; one per Redis database used as a broker.
BROKER_EPOCH_KEY = "tradewind:broker-epoch"

_REDIS_SCHEMES = ("redis://", "rediss://")


class BrokerEpoch:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._epoch: bytes | str | None = None

    @classmethod
    def for_broker(cls, broker_url: str) -> BrokerEpoch | None:
        """A checker for a ``redis://`` / ``rediss://`` broker; None for any other broker."""
        if not broker_url.startswith(_REDIS_SCHEMES):
            return None
        return cls(redis.Redis.from_url(broker_url, socket_timeout=5, socket_connect_timeout=5))

    def lost_data(self) -> bool:
        """True when the broker's epoch changed since the last look (the first look only records it).
        Raises redis errors when the broker cannot be reached: that says nothing about its data."""
        value = self._client.get(BROKER_EPOCH_KEY)
        if value is None:
            self._client.set(BROKER_EPOCH_KEY, uuid.uuid4().hex, nx=True)
            value = self._client.get(BROKER_EPOCH_KEY)
        lost = self._epoch is not None and value != self._epoch
        self._epoch = value
        return lost

    def close(self) -> None:
        self._client.close()
