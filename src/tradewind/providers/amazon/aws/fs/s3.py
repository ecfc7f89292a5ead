"""The ``s3://`` filesystem of ObjectStoragePath: an s3fs filesystem configured from an ``aws`` connection.

The connection is read as the S3Hook reads it (login/password or extra keys, ``aws_session_token``,
``region_name``, ``endpoint_url`` or ``service_config.s3.endpoint_url``, ``verify``, ``config_kwargs``).
``conn_id=None`` leaves credentials to botocore's own chain. s3fs is in the ``amazon`` extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradewind.providers.amazon.aws.hooks.s3 import S3Hook
from tradewind.sdk.errors import MissingDependencyError

schemes = ["s3", "s3a"]
#: S3's own region, which a CreateBucket request must not name as its location.
DEFAULT_REGION = "us-east-1"


def import_s3fs() -> Any:
    try:
        import s3fs
    except ImportError:
        raise MissingDependencyError(
            "s3:// object storage paths need s3fs, which is not installed: pip install 'tradewind[amazon]'",
            package="s3fs",
        ) from None
    return s3fs


def storage_options_for(conn_id: str | None) -> dict[str, Any]:
    """s3fs keyword arguments from connection ``conn_id`` (empty when it is None)."""
    if conn_id is None:
        return {}
    hook = S3Hook(aws_conn_id=conn_id)
    config = hook.conn_config
    options: dict[str, Any] = {}
    if config.get("aws_access_key_id"):
        options["key"] = config["aws_access_key_id"]
    if config.get("aws_secret_access_key"):
        options["secret"] = config["aws_secret_access_key"]
    if config.get("aws_session_token"):
        options["token"] = config["aws_session_token"]
    if hook.endpoint_url:
        options["endpoint_url"] = hook.endpoint_url
    client_kwargs: dict[str, Any] = {}
    config_kwargs: dict[str, Any] = dict(config.get("config_kwargs") or {})
    if hook.region_name == DEFAULT_REGION:
        # s3fs names a client_kwargs region as the LocationConstraint of a new bucket, which S3 refuses for its
        # default region; given to botocore's Config instead, it still picks the endpoint and the signature.
        config_kwargs.setdefault("region_name", hook.region_name)
    elif hook.region_name:
        client_kwargs["region_name"] = hook.region_name
    if hook.verify is not None:
        client_kwargs["verify"] = hook.verify
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    if config_kwargs:
        options["config_kwargs"] = config_kwargs
    return options


def get_fs(conn_id: str | None, storage_options: Mapping[str, Any] | None = None) -> Any:
    """An ``s3fs.S3FileSystem`` for connection ``conn_id``; ``storage_options`` override what it says."""
    s3fs = import_s3fs()
    options = {**storage_options_for(conn_id), **dict(storage_options or {})}
    # fsspec would otherwise hand back a filesystem cached across tasks with the same arguments, whose event
    # loop may belong to a process that forked this one.
    options.setdefault("skip_instance_cache", True)
    return s3fs.S3FileSystem(**options)
