"""Fixtures of the provider tests: the local HTTP service and moto's S3 server, connections to them, an in-memory
task runtime."""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.providers.http.service import PASSWORD, USER, serving
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime


@pytest.fixture(scope="module")
def http_service() -> Iterator[tuple[str, Counter[str]]]:
    with serving() as service:
        yield service


@pytest.fixture
def base_url(http_service: tuple[str, Counter[str]], monkeypatch: pytest.MonkeyPatch) -> str:
    """The service's URL; connection ``api`` (TRADEWIND_CONN_API) points at it with basic auth and a header."""
    url = http_service[0]
    host, port = url.removeprefix("http://").split(":")
    monkeypatch.setenv(
        "TRADEWIND_CONN_API",
        json.dumps(
            {
                "conn_type": "http",
                "host": host,
                "port": int(port),
                "login": USER,
                "password": PASSWORD,
                "extra": {"X-Team": "data-eng", "timeout": 10},
            }
        ),
    )
    return url


@pytest.fixture
def runtime() -> Iterator[InMemoryRuntime]:
    rt = InMemoryRuntime()
    with use_runtime(rt):
        yield rt


@dataclass(frozen=True)
class S3Store:
    """moto's S3 server on 127.0.0.1, checking signatures: requests need this IAM user's keys."""

    url: str
    access_key: str
    secret_key: str

    def connection(self, **extra: Any) -> str:
        """The JSON form of an ``aws`` connection to the store (extra as given, endpoint_url by default)."""
        fields = {"endpoint_url": self.url, "region_name": "us-east-1", **extra}
        return json.dumps(
            {"conn_type": "aws", "login": self.access_key, "password": self.secret_key, "extra": fields}
        )


@pytest.fixture(scope="session")
def s3_store() -> Iterator[S3Store]:
    import boto3
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    # The next three calls (which create the user and its key) go unchecked; every later one is authenticated.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = ActionAuthenticatorMixin.request_count + 3
    iam = boto3.client(
        "iam",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    user = f"tradewind-{uuid.uuid4().hex[:8]}"  # moto keeps its state per process, across servers
    iam.create_user(UserName=user)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName=user, PolicyName="everything", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        yield S3Store(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        server.stop()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved


@pytest.fixture
def store_conn(s3_store: S3Store, monkeypatch: pytest.MonkeyPatch) -> S3Store:
    """Connection ``store`` (TRADEWIND_CONN_STORE) to the S3 server."""
    monkeypatch.setenv("TRADEWIND_CONN_STORE", s3_store.connection())
    return s3_store
