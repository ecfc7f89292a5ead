"""AwsBaseHook: a boto3 session and clients built from an ``aws`` connection (Airflow's fields and extra keys).

login / password are the access key id and secret key (or extra ``aws_access_key_id`` /
``aws_secret_access_key``); extra ``aws_session_token``, ``region_name``, ``endpoint_url`` (or, per service,
``service_config.<service>.endpoint_url``), ``verify`` and ``config_kwargs`` (botocore ``Config`` arguments,
e.g. ``{"s3": {"addressing_style": "path"}}`` for some S3-compatible stores). ``aws_conn_id=None`` uses
boto3's own credential chain. boto3 is the ``amazon`` extra and is imported only when a client is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from tradewind.sdk.errors import ConnectionFieldError, ExternalSystemError, MissingDependencyError
from tradewind.sdk.hooks.base import BaseHook


def import_boto3() -> Any:
    try:
        import boto3
    except ImportError:
        raise MissingDependencyError(
            "the Amazon hooks need boto3, which is not installed: pip install 'tradewind[amazon]'",
            package="boto3",
        ) from None
    return boto3


class AwsBaseHook(BaseHook):
    """What every AWS hook shares: the connection's credentials and options, a session, a client."""

    conn_name_attr = "aws_conn_id"
    default_conn_name = "aws_default"
    hook_name = "Amazon Web Services"
    #: The boto3 service name; a subclass sets it (``"s3"``).
    service_name = ""

    def __init__(
        self,
        aws_conn_id: str | None = default_conn_name,
        verify: bool | str | None = None,
        region_name: str | None = None,
        config: Any = None,
        client_type: str | None = None,
        resource_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self._verify = verify
        self._region_name = region_name
        self._config = config
        self.client_type = client_type or self.service_name
        self.resource_type = resource_type or self.client_type

    # -- what the connection says ----------------------------------------------------------------------------
    @cached_property
    def conn_config(self) -> dict[str, Any]:
        """Credentials and options of the connection (empty when ``aws_conn_id`` is None)."""
        if self.aws_conn_id is None:
            return {}
        connection = self.get_connection(self.aws_conn_id)
        extra = connection.extra_dejson
        service_config = extra.get("service_config") or {}
        if not isinstance(service_config, dict):
            raise ConnectionFieldError(
                "service_config must be an object of service names", conn_id=self.aws_conn_id,
                field="extra.service_config",
            )  # fmt: skip
        return {
            "aws_access_key_id": connection.login or extra.get("aws_access_key_id"),
            "aws_secret_access_key": connection.password or extra.get("aws_secret_access_key"),
            "aws_session_token": extra.get("aws_session_token"),
            "region_name": extra.get("region_name"),
            "endpoint_url": extra.get("endpoint_url") or extra.get("host"),
            "verify": extra.get("verify"),
            "config_kwargs": extra.get("config_kwargs") or {},
            "service_config": service_config,
        }

    @property
    def service_config(self) -> dict[str, Any]:
        """The connection extra's ``service_config.<service>`` object (Airflow's per-service settings)."""
        value = self.conn_config.get("service_config", {}).get(self.client_type) or {}
        return value if isinstance(value, dict) else {}

    @property
    def region_name(self) -> str | None:
        return self._region_name or self.conn_config.get("region_name")

    @property
    def endpoint_url(self) -> str | None:
        return self.service_config.get("endpoint_url") or self.conn_config.get("endpoint_url")

    @property
    def verify(self) -> bool | str | None:
        return self._verify if self._verify is not None else self.conn_config.get("verify")

    # -- boto3 objects -------------------------------------------------------------------------------------------
    def get_session(self, region_name: str | None = None) -> Any:
        config = self.conn_config
        return import_boto3().session.Session(
            aws_access_key_id=config.get("aws_access_key_id"),
            aws_secret_access_key=config.get("aws_secret_access_key"),
            aws_session_token=config.get("aws_session_token"),
            region_name=region_name or self.region_name,
        )

    def _client_kwargs(self) -> dict[str, Any]:
        from botocore.config import Config

        config = self._config or Config(**self.conn_config.get("config_kwargs", {}))
        return {"endpoint_url": self.endpoint_url, "verify": self.verify, "config": config}

    @cached_property
    def conn(self) -> Any:
        """The boto3 client of ``client_type`` (built once per hook)."""
        return self.get_session().client(self.client_type, **self._client_kwargs())

    @cached_property
    def resource(self) -> Any:
        return self.get_session().resource(self.resource_type, **self._client_kwargs())

    def get_conn(self) -> Any:
        return self.conn

    def get_client_type(self, region_name: str | None = None) -> Any:
        return self.get_session(region_name).client(self.client_type, **self._client_kwargs())

    # -- errors ----------------------------------------------------------------------------------------------
    @contextmanager
    def service_errors(self, action: str) -> Iterator[None]:
        """Turn botocore's errors into ``ExternalSystemError`` naming the connection and ``action``."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "error")
            raise ExternalSystemError(
                f"connection {self.aws_conn_id!r}: {action} failed: {code}: {error.get('Message', '')}".rstrip(),
                conn_id=self.aws_conn_id,
                status=code,
            ) from exc
        except BotoCoreError as exc:
            raise ExternalSystemError(
                f"connection {self.aws_conn_id!r}: {action} failed: {type(exc).__name__}: {exc}",
                conn_id=self.aws_conn_id,
            ) from exc
