"""S3Hook: buckets and objects in S3 or an S3-compatible store (MinIO, Ceph, moto), a subset of Airflow's.

A method's ``bucket_name`` may be left out when ``key`` is a full ``s3://bucket/key`` URL, or when the
connection names a default bucket (extra ``service_config.s3.bucket_name``, or extra ``bucket_name``): Airflow's
``unify_bucket_name_and_key`` and ``provide_bucket_name`` behaviour. Failures raise ``ExternalSystemError``
naming the connection, the operation and the object, never a credential.
"""

from __future__ import annotations

import fnmatch
import gzip as gzip_module
import io
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit
from uuid import uuid4

from tradewind.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from tradewind.sdk.errors import ConflictError, ExternalSystemError, NotFoundError, RefusedInputError

#: Error codes S3 (and compatible stores) answer with when a bucket or object does not exist.
MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NotFound"})
#: delete_objects takes at most this many keys per request.
DELETE_BATCH = 1000


def error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class S3Hook(AwsBaseHook):
    """``S3Hook(aws_conn_id="my_store").load_string("hello", "s3://bucket/greeting.txt")``.

    ``transfer_config_args`` are boto3 ``TransferConfig`` arguments for uploads and downloads, ``extra_args``
    the ``ExtraArgs`` given to each (e.g. ``{"ContentType": "text/csv"}``).
    """

    conn_type = "aws"
    service_name = "s3"

    def __init__(
        self,
        aws_conn_id: str | None = AwsBaseHook.default_conn_name,
        transfer_config_args: dict[str, Any] | None = None,
        extra_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["client_type"] = "s3"
        super().__init__(aws_conn_id=aws_conn_id, **kwargs)
        self.transfer_config_args = dict(transfer_config_args or {})
        self.extra_args = dict(extra_args or {})

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["host", "schema", "port"],
            "relabeling": {"login": "AWS Access Key ID", "password": "AWS Secret Access Key"},
            "placeholders": {"extra": '{"service_config": {"s3": {"bucket_name": "lake"}}}'},
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return {
            "region_name": {"label": "Region", "type": "string", "placeholder": "us-east-1"},
            "endpoint_url": {
                "label": "Endpoint URL",
                "type": "string",
                "description": "for an S3-compatible store (MinIO, Ceph ...); empty for AWS",
                "placeholder": "https://minio.internal:9000",
            },
        }

    @property
    def transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(**self.transfer_config_args)

    # -- names ------------------------------------------------------------------------------------------------
    @staticmethod
    def parse_s3_url(s3url: str) -> tuple[str, str]:
        """``(bucket, key)`` of ``s3://bucket/key`` or of a virtual-hosted / path-style ``https://`` URL."""
        scheme, _, rest = s3url.partition("//")
        if re.fullmatch(r"s3[na]?:", scheme, re.IGNORECASE):
            parts = urlsplit(s3url, allow_fragments=False)
            if parts.netloc:
                return parts.netloc, parts.path.lstrip("/")
        elif scheme == "https:":
            labels = rest.split(".")
            if labels[0] == "s3" and rest.count("/") >= 2:  # https://s3.region.amazonaws.com/bucket/key
                _, bucket, key = rest.split("/", 2)
                return bucket, key
            if len(labels) > 1 and labels[1] == "s3":  # https://bucket.s3.region.amazonaws.com/key
                return labels[0], rest.partition("/")[2]
        raise RefusedInputError(
            f"{s3url!r} is not an S3 URL: write s3://bucket-name/key-name or "
            "https://bucket-name.s3.region-code.amazonaws.com/key-name",
            field="s3url",
        )

    def default_bucket(self) -> str | None:
        """The connection's default bucket: extra ``service_config.s3.bucket_name``, else extra ``bucket_name``."""
        if self.aws_conn_id is None:
            return None
        extra = self.get_connection(self.aws_conn_id).extra_dejson
        return self.service_config.get("bucket_name") or extra.get("bucket_name")

    def bucket_for(self, bucket_name: str | None) -> str:
        bucket = bucket_name or self.default_bucket()
        if not bucket:
            raise RefusedInputError(
                f"no bucket_name given and connection {self.aws_conn_id!r} names no default bucket "
                "(extra service_config.s3.bucket_name)",
                field="bucket_name",
            )
        return bucket

    def bucket_and_key(self, key: str, bucket_name: str | None) -> tuple[str, str]:
        """A full ``s3://`` URL in ``key`` wins when ``bucket_name`` is not given; else the default bucket."""
        if bucket_name is None and "://" in key:
            return self.parse_s3_url(key)
        return self.bucket_for(bucket_name), key

    # -- buckets ----------------------------------------------------------------------------------------------
    def check_for_bucket(self, bucket_name: str | None = None) -> bool:
        """Whether the bucket exists (False, logged, when access to it is refused)."""
        from botocore.exceptions import ClientError

        bucket = self.bucket_for(bucket_name)
        try:
            self.conn.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if error_code(exc) not in MISSING_CODES:
                self.log.error(
                    "connection %r: access to bucket %r refused or failed: %s", self.aws_conn_id, bucket, exc
                )
            return False
        return True

    def get_bucket(self, bucket_name: str | None = None) -> Any:
        return self.resource.Bucket(self.bucket_for(bucket_name))

    def create_bucket(self, bucket_name: str | None = None, region_name: str | None = None) -> None:
        bucket = self.bucket_for(bucket_name)
        region = region_name or self.conn.meta.region_name
        with self.service_errors(f"S3 create_bucket {bucket!r}"):
            if region in (None, "us-east-1"):
                self.conn.create_bucket(Bucket=bucket)
            else:
                self.conn.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
                )

    def delete_bucket(self, bucket_name: str, force_delete: bool = False) -> None:
        """Delete an empty bucket; with ``force_delete`` its objects first."""
        if force_delete:
            keys = self.list_keys(bucket_name)
            if keys:
                self.delete_objects(bucket_name, keys)
        with self.service_errors(f"S3 delete_bucket {bucket_name!r}"):
            self.conn.delete_bucket(Bucket=bucket_name)

    # -- listing ----------------------------------------------------------------------------------------------
    def _pages(
        self,
        bucket: str,
        prefix: str,
        delimiter: str,
        page_size: int | None,
        max_items: int | None,
        **more: Any,
    ) -> list[dict[str, Any]]:
        paginator = self.conn.get_paginator("list_objects_v2")
        config = {"PageSize": page_size, "MaxItems": max_items}
        with self.service_errors(f"S3 list of s3://{bucket}/{prefix}"):
            return list(
                paginator.paginate(
                    Bucket=bucket, Prefix=prefix, Delimiter=delimiter, PaginationConfig=config, **more
                )
            )

    def list_prefixes(
        self,
        bucket_name: str | None = None,
        prefix: str | None = None,
        delimiter: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> list[str]:
        """The common prefixes ("folders") under ``prefix`` up to ``delimiter``."""
        pages = self._pages(self.bucket_for(bucket_name), prefix or "", delimiter or "", page_size, max_items)
        return [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]

    def list_keys(
        self,
        bucket_name: str | None = None,
        prefix: str | None = None,
        delimiter: str | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
        start_after_key: str | None = None,
        from_datetime: datetime | None = None,
        to_datetime: datetime | None = None,
        object_filter: Callable[..., list[Any]] | None = None,
        apply_wildcard: bool = False,
    ) -> list[Any]:
        """Keys under ``prefix`` (a shell pattern with ``apply_wildcard``), modified within the given window.

        ``object_filter(objects, from_datetime, to_datetime)`` replaces the time filter; it gets the listed
        object dicts (``Key``, ``Size``, ``LastModified`` ...) and returns what is returned."""
        pattern = prefix or ""
        listed_prefix = re.split(r"[*?\[]", pattern, maxsplit=1)[0] if apply_wildcard else pattern
        more = {"StartAfter": start_after_key} if start_after_key else {}
        pages = self._pages(
            self.bucket_for(bucket_name), listed_prefix, delimiter or "", page_size, max_items, **more
        )
        objects = [obj for page in pages for obj in page.get("Contents", [])]
        if apply_wildcard:
            objects = [obj for obj in objects if fnmatch.fnmatchcase(obj["Key"], pattern)]
        if object_filter is not None:
            return object_filter(objects, from_datetime, to_datetime)
        return [
            obj["Key"]
            for obj in objects
            if (from_datetime is None or obj["LastModified"] >= from_datetime)
            and (to_datetime is None or obj["LastModified"] < to_datetime)
        ]

    # -- single objects ---------------------------------------------------------------------------------------
    def head_object(self, key: str, bucket_name: str | None = None) -> dict[str, Any] | None:
        """The object's metadata, or None when it does not exist."""
        from botocore.exceptions import ClientError

        bucket, key = self.bucket_and_key(key, bucket_name)
        with self.service_errors(f"S3 head_object of s3://{bucket}/{key}"):
            try:
                return self.conn.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    return None
                raise

    def check_for_key(self, key: str, bucket_name: str | None = None) -> bool:
        return self.head_object(key, bucket_name) is not None

    def get_key(self, key: str, bucket_name: str | None = None) -> Any:
        """The boto3 ``S3.Object`` resource of the key, loaded; NotFoundError if there is none."""
        from botocore.exceptions import ClientError

        bucket, key = self.bucket_and_key(key, bucket_name)
        obj = self.resource.Object(bucket, key)
        with self.service_errors(f"S3 get_key of s3://{bucket}/{key}"):
            try:
                obj.load()
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    raise NotFoundError(
                        f"s3://{bucket}/{key} does not exist (connection {self.aws_conn_id!r})",
                        kind="s3 object",
                        ident=f"s3://{bucket}/{key}",
                    ) from None
                raise
        return obj

    def read_key(self, key: str, bucket_name: str | None = None) -> str:
        """The object's content decoded as UTF-8."""
        return self.get_key(key, bucket_name).get()["Body"].read().decode("utf-8")

    # -- writing ----------------------------------------------------------------------------------------------
    def load_string(
        self,
        string_data: str,
        key: str,
        bucket_name: str | None = None,
        replace: bool = False,
        encrypt: bool = False,
        encoding: str | None = None,
        acl_policy: str | None = None,
        compression: str | None = None,
    ) -> None:
        """Store ``string_data`` (encoded, optionally gzip-compressed) as the key."""
        data = string_data.encode(encoding or "utf-8")
        if compression == "gzip":
            data = gzip_module.compress(data)
        elif compression is not None:
            raise RefusedInputError(
                f"compression must be None or 'gzip', got {compression!r}", field="compression"
            )
        self.load_file_obj(io.BytesIO(data), key, bucket_name, replace, encrypt, acl_policy)

    def load_bytes(
        self,
        bytes_data: bytes,
        key: str,
        bucket_name: str | None = None,
        replace: bool = False,
        encrypt: bool = False,
        acl_policy: str | None = None,
    ) -> None:
        self.load_file_obj(io.BytesIO(bytes_data), key, bucket_name, replace, encrypt, acl_policy)

    def load_file(
        self,
        filename: Path | str,
        key: str,
        bucket_name: str | None = None,
        replace: bool = False,
        encrypt: bool = False,
        gzip: bool = False,
        acl_policy: str | None = None,
    ) -> None:
        """Upload the local file ``filename`` (gzip-compressed on the way with ``gzip``)."""
        with open(filename, "rb") as source:
            if not gzip:
                self.load_file_obj(source, key, bucket_name, replace, encrypt, acl_policy)
                return
            with tempfile.TemporaryFile() as packed:
                with gzip_module.GzipFile(fileobj=packed, mode="wb") as compressor:
                    shutil.copyfileobj(source, compressor)
                packed.seek(0)
                self.load_file_obj(packed, key, bucket_name, replace, encrypt, acl_policy)

    def load_file_obj(
        self,
        file_obj: IO[bytes],
        key: str,
        bucket_name: str | None = None,
        replace: bool = False,
        encrypt: bool = False,
        acl_policy: str | None = None,
    ) -> None:
        """Upload a binary file object; without ``replace`` an existing key is a ConflictError."""
        bucket, key = self.bucket_and_key(key, bucket_name)
        if not replace and self.check_for_key(key, bucket):
            raise ConflictError(
                f"The key {key} already exists in bucket {bucket} (pass replace=True to overwrite)."
            )
        extra_args = dict(self.extra_args)
        if encrypt:
            extra_args["ServerSideEncryption"] = "AES256"
        if acl_policy:
            extra_args["ACL"] = acl_policy
        with self.service_errors(f"S3 upload to s3://{bucket}/{key}"):
            self.conn.upload_fileobj(file_obj, bucket, key, ExtraArgs=extra_args, Config=self.transfer_config)

    def download_file(
        self,
        key: str,
        bucket_name: str | None = None,
        local_path: str | None = None,
        preserve_file_name: bool = False,
        use_autogenerated_subdir: bool = True,
    ) -> str:
        """Download the key into ``local_path`` (the temporary folder by default); the file's path.

        The file gets a random ``airflow_tmp_`` name unless ``preserve_file_name``, which keeps the key's last
        part (in a random subfolder unless ``use_autogenerated_subdir`` is false) and never overwrites a file."""
        obj = self.get_key(key, bucket_name)
        if preserve_file_name:
            subdir = f"airflow_tmp_dir_{uuid4().hex[:8]}" if use_autogenerated_subdir else ""
            path = Path(local_path or tempfile.gettempdir(), subdir, obj.key.rsplit("/", 1)[-1])
            if path.is_file():
                raise ConflictError(
                    f"{path} already exists; not overwriting it with s3://{obj.bucket_name}/{obj.key}"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            target: IO[bytes] = open(path, "wb")  # noqa: SIM115 (closed below, also on failure)
        else:
            target = tempfile.NamedTemporaryFile(dir=local_path, prefix="airflow_tmp_", delete=False)  # noqa: SIM115
        try:
            with self.service_errors(f"S3 download of s3://{obj.bucket_name}/{obj.key}"):
                obj.download_fileobj(target, ExtraArgs=self.extra_args, Config=self.transfer_config)
        finally:
            target.close()
        return str(target.name)

    def delete_objects(self, bucket: str, keys: str | list[str]) -> None:
        """Delete ``keys`` (one or many) from ``bucket``; ExternalSystemError naming the keys that failed."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            with self.service_errors(f"S3 delete_objects in {bucket!r}"):
                answer = self.conn.delete_objects(Bucket=bucket, Delete={"Objects": batch})
            failed = [error["Key"] for error in answer.get("Errors", [])]
            if failed:
                raise ExternalSystemError(
                    f"connection {self.aws_conn_id!r}: errors when deleting {failed} from bucket {bucket!r}",
                    conn_id=self.aws_conn_id,
                )

    # -- the connection test ----------------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """List the buckets (and reach the default bucket when the connection names one)."""
        try:
            with self.service_errors("S3 list_buckets"):
                self.conn.list_buckets()
            bucket = self.default_bucket()
            if bucket and not self.check_for_bucket(bucket):
                return (
                    False,
                    f"connection {self.aws_conn_id!r}: bucket {bucket!r} does not exist or is not reachable",
                )
        except Exception as exc:
            return False, str(exc)
        return True, "Connection successfully tested"
