"""The Celery leg's broker: a queue of the soak's own on a shared Redis (named from a random token, so two
soaks or the Celery tests on the same database never meet), the settings that point the deployment at it,
and the removal of exactly the keys the soak made (never a flush: the database is shared)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import redis

from tradewind.core.keys import TaskTryKey
from tradewind.executors.celery.task_ids import celery_task_id

#: A database of the shared server that the Celery tests (DB 5) and the default settings (DB 0) do not use.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
#: Task processes per worker: two workers carry the two schedulers' parallelism (6 each) with room to spare.
WORKER_CONCURRENCY = 4


@dataclass
class SoakBroker:
    url: str = DEFAULT_REDIS_URL
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def queue(self) -> str:
        return f"tw-soak-{self.token}"

    def worker_hostnames(self, count: int) -> tuple[str, ...]:
        return tuple(f"soak-{self.token}-{slot}@%h" for slot in range(1, count + 1))

    def check(self) -> None:
        """Raise SystemExit if the Redis server does not answer."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=3)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise SystemExit(f"the Celery leg needs Redis at {self.url}: {exc}") from None
        finally:
            client.close()

    def env(self) -> dict[str, str]:
        return {
            "TRADEWIND__CORE__EXECUTOR": "celery",
            "TRADEWIND__CELERY__BROKER_URL": self.url,
            "TRADEWIND__CELERY__DEFAULT_QUEUE": self.queue,
            "TRADEWIND__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        }

    def clean(self, tries: Iterable[TaskTryKey]) -> int:
        """Delete the soak's queue, its messages left unacknowledged by killed workers and the results of
        ``tries``; returns how many keys or entries went."""
        client = redis.Redis.from_url(self.url, socket_connect_timeout=3)
        removed = 0
        try:
            for key in client.scan_iter(match=f"*{self.token}*", count=1000):
                removed += int(client.delete(key))
            for tag, payload in client.hgetall("unacked").items():
                if self.token.encode() in payload:
                    removed += int(client.hdel("unacked", tag))
                    client.zrem("unacked_index", tag)
            metas = [f"celery-task-meta-{celery_task_id(key)}" for key in tries]
            for start in range(0, len(metas), 500):
                removed += int(client.delete(*metas[start : start + 500]))
        finally:
            client.close()
        return removed
