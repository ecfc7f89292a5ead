"""Fixtures of the remote log tests: moto's S3 server (the providers' fixture) and a bucket on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.providers.conftest import S3Store, s3_store

__all__ = ["S3Store", "s3_store"]


@pytest.fixture
def bucket(s3_store: S3Store) -> Iterator[str]:
    """A new, empty bucket on the S3 server."""
    name = f"tw-logs-{uuid.uuid4().hex[:10]}"
    client = s3_client(s3_store)
    client.create_bucket(Bucket=name)
    yield name


def s3_client(store: S3Store) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=store.url,
        region_name="us-east-1",
        aws_access_key_id=store.access_key,
        aws_secret_access_key=store.secret_key,
    )


def read_object(store: S3Store, bucket: str, key: str) -> str | None:
    """The object's text, or None when there is no such object."""
    client = s3_client(store)
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return bytes(body).decode("utf-8")
