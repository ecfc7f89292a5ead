"""Bad values stop at render time (values.schema.json or a template check) with a message naming the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import helm_template

BAD_VALUES = [
    (["executor=airflow"], "at '/executor': value must be one of 'kubernetes', 'celery', 'local'"),
    (["dags.mode=svn"], "at '/dags/mode': value must be one of 'persistent', 'git'"),
    (["dags.mode=git"], "dags.mode is git but dags.gitSync.repo is empty"),
    (["dags.gitSync.period=often"], "at '/dags/gitSync/period'"),
    (["scheduler.replicas=0"], "at '/scheduler/replicas': minimum: got 0, want 1"),
    (["webserver.service.type=Ingress"], "at '/webserver/service/type'"),
    (["webserver.service.port=70000"], "at '/webserver/service/port'"),
    (["webserver.resources=null"], "at '/webserver': missing property 'resources'"),
    (["webserver.secretKey=short"], "at '/webserver/secretKey'"),
    (["image.repository=tradewind:0.1.0"], "at '/image/repository'"),
    (["frobnicate=true"], "additional properties 'frobnicate' not allowed"),
    (["config.core.paralelism=4"], "additional properties 'paralelism' not allowed"),
    (["config.scheduler.parsing_processes=0"], "at '/config/scheduler/parsing_processes'"),
    (["postgresql.enabled=false"], "set externalDatabase.url or externalDatabase.existingSecret"),
    (
        ["postgresql.enabled=false", "externalDatabase.url=sqlite:////opt/tradewind/tradewind.db"],
        "at '/externalDatabase/url'",
    ),
    (
        ["externalDatabase.url=postgresql://u:p@db/tw"],
        "set postgresql.enabled=false to use the external database",
    ),
    (
        ["config.database.url=postgresql://u:p@db/tw"],
        "config.database.url is a secret and would land in a ConfigMap",
    ),
    (["config.webserver.secret_key=abc"], "config.webserver.secret_key is a secret"),
    (["config.metrics.token=abc"], "config.metrics.token is a secret and would land in a ConfigMap"),
    (["config.traces.otlp_headers.x-api-key=abc"], "config.traces.otlp_headers is a secret"),
    (["config.metrics.serve_port=9999"], "config.metrics.serve_port is set by the chart; use metrics.port"),
    (["config.webserver.default_ui_timezone=3"], "at '/config/webserver/default_ui_timezone'"),
    (["config.execution_api.jwt_secret=abc"], "config.execution_api.jwt_secret is a secret"),
    (["executionApi.jwtSecret=short"], "at '/executionApi/jwtSecret'"),
    (["executionApi.url=tradewind-webserver:8080"], "at '/executionApi/url'"),
    (
        ["config.execution_api.url=http://x/execution"],
        "config.execution_api.url is set by the chart; use executionApi.url instead",
    ),
    (
        ["config.webserver.forwarded_allow_ips=*"],
        "config.webserver.forwarded_allow_ips is set by the chart; use webserver.forwardedAllowIps",
    ),
    (["webserver.forwardedAllowIps=proxy.example.com"], "at '/webserver/forwardedAllowIps'"),
    (
        ["config.kubernetes.env_from_secret=tw-tradewind-env"],
        "config.kubernetes.env_from_secret names tw-tradewind-env, which holds database credentials",
    ),
    (
        [
            "postgresql.enabled=false",
            "externalDatabase.existingSecret=db",
            "config.kubernetes.env_from_secret=db",
        ],
        "config.kubernetes.env_from_secret names db, which holds database credentials",
    ),
    (["networkPolicy.enabled=yes"], "at '/networkPolicy/enabled'"),
    (
        [
            "networkPolicy.enabled=true",
            "executor=celery",
            "redis.enabled=false",
            "celery.brokerUrl=amqp://u:p@mq:5672/tw",
        ],
        "add an egress rule to it in networkPolicy.workerEgress",
    ),
    (["config.core.executor=local"], "config.core.executor is set by the chart; use executor instead"),
    (
        ["config.kubernetes.namespace=x"],
        "config.kubernetes.namespace is set by the chart; use kubernetesExecutor.namespace",
    ),
    (
        ["executor=celery", "redis.enabled=false"],
        "executor is celery and redis.enabled is false: set celery.brokerUrl",
    ),
    (["celery.queues=null"], "at '/celery': missing property 'queues'"),
    (["kubernetesExecutor.namespace=workers"], "set dags.persistence.existingClaim"),
    (
        ["webserver.service.nodePort=30080"],
        "webserver.service.nodePort is set but webserver.service.type is LoadBalancer",
    ),
    (
        ["webserver.ingress.enabled=true", "webserver.ingress.tls.enabled=true"],
        "webserver.ingress.tls.secretName is empty",
    ),
    (
        [
            "dags.mode=git",
            "dags.gitSync.repo=git@h:r.git",
            "dags.gitSync.sshKeySecret=a",
            "dags.gitSync.credentialsSecret=b",
        ],
        "are both set",
    ),
]


@pytest.mark.parametrize(("sets", "message"), BAD_VALUES, ids=[" ".join(s) for s, _ in BAD_VALUES])
def test_bad_values_fail_with_a_message_naming_the_value(helm: Path, sets: list[str], message: str) -> None:
    result = helm_template(helm, sets=sets)
    assert result.returncode != 0, f"{sets} rendered without error"
    assert message in result.stderr, result.stderr
