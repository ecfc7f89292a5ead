"""The broker epoch: how the Celery executor tells that a Redis broker lost its data."""

from __future__ import annotations

import redis
from tests.integration.celery.celery_harness import RABBIT_ROOT, RedisServer

from tradewind.executors.celery.broker_epoch import BROKER_EPOCH_KEY, BrokerEpoch


def test_a_flushed_or_restarted_forgetful_redis_is_noticed_once(forgetful_redis: RedisServer) -> None:
    epoch = BrokerEpoch.for_broker(forgetful_redis.url)
    other = BrokerEpoch.for_broker(forgetful_redis.url)  # a second scheduler on the same broker
    assert epoch is not None and other is not None
    try:
        assert not epoch.lost_data() and not other.lost_data()  # the first looks only record it
        assert not epoch.lost_data()
        forgetful_redis.stop()
        forgetful_redis.start()
        assert epoch.lost_data()
        assert other.lost_data()  # each executor notices, whoever made the new epoch
        assert not epoch.lost_data() and not other.lost_data()
        redis.Redis.from_url(forgetful_redis.url).flushdb()
        assert epoch.lost_data()
    finally:
        epoch.close()
        other.close()


def test_a_redis_that_keeps_its_data_across_a_restart_loses_nothing(private_redis: RedisServer) -> None:
    epoch = BrokerEpoch.for_broker(private_redis.url)
    assert epoch is not None
    try:
        assert not epoch.lost_data()
        assert redis.Redis.from_url(private_redis.url).get(BROKER_EPOCH_KEY) is not None
        private_redis.stop()
        private_redis.start()
        assert not epoch.lost_data()
    finally:
        epoch.close()


def test_only_redis_brokers_are_watched() -> None:
    assert BrokerEpoch.for_broker(f"{RABBIT_ROOT}/") is None
