"""The Celery app Tradewind builds: data-only messages, late acks, settings carried over, secrets masked."""

from __future__ import annotations

from pydantic import SecretStr

from tradewind.config.settings import CelerySettings
from tradewind.executors.celery.app import build_celery_app, mask_url, result_backend_url
from tradewind.executors.celery.worker import worker_argv
from tradewind.executors.celery.worker_task import TASK_NAME


def test_messages_are_json_only_and_acknowledged_after_the_try() -> None:
    app = build_celery_app(CelerySettings(prefetch_multiplier=3, visibility_timeout=7200, default_queue="q"))
    conf = app.conf

    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]  # pickle would let a message carry code
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.task_track_started
    assert conf.worker_prefetch_multiplier == 3
    assert conf.broker_transport_options["visibility_timeout"] == 7200
    assert conf.task_default_queue == "q"
    task = app.tasks[TASK_NAME]
    assert task.acks_late and task.reject_on_worker_lost


def test_each_call_builds_a_separate_app() -> None:
    first = build_celery_app(CelerySettings(broker_url=SecretStr("redis://127.0.0.1:6379/1")))
    second = build_celery_app(CelerySettings(broker_url=SecretStr("redis://127.0.0.1:6379/2")))
    assert first is not second
    assert first.conf.broker_url != second.conf.broker_url


def test_result_backend_defaults_to_redis_broker_else_rpc_and_an_explicit_one_wins() -> None:
    redis = CelerySettings(broker_url=SecretStr("redis://:pw@h:6379/3"))
    amqp = CelerySettings(broker_url=SecretStr("amqp://u:pw@h:5672//"))
    explicit = CelerySettings(broker_url=SecretStr("amqp://u:pw@h//"), result_backend=SecretStr("db+sqlite:///r.db"))

    assert result_backend_url(redis) == "redis://:pw@h:6379/3"
    assert result_backend_url(amqp) == "rpc://"
    assert result_backend_url(explicit) == "db+sqlite:///r.db"


def test_urls_are_shown_with_the_password_masked() -> None:
    assert mask_url("redis://:s3cret@h:6379/5") == "redis://:**@h:6379/5"
    assert mask_url("amqp://guest:s3cret@h:5672//") == "amqp://guest:**@h:5672//"
    assert "s3cret" not in mask_url("db+postgresql://u:s3cret@h/db")


def test_worker_arguments_default_to_the_settings() -> None:
    settings = CelerySettings(worker_concurrency=5, default_queue="main")

    argv = worker_argv(settings, hostname="w1@x")
    assert argv[0] == "worker"
    assert "--pool=prefork" in argv and "--concurrency=5" in argv and "--queues=main" in argv
    assert "--hostname=w1@x" in argv
    assert "--queues=a,b" in worker_argv(settings, queues=["a", "b"])
    assert "--concurrency=2" in worker_argv(settings, concurrency=2)
