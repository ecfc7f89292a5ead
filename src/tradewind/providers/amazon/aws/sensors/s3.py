"""S3KeySensor: wait until one or more keys (or keys matching a pattern) exist in an S3-compatible store."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tradewind.providers.amazon.aws.hooks.s3 import S3Hook
from tradewind.sdk.operators.python import callable_kwargs, emit
from tradewind.sdk.sensors.base import BaseSensorOperator


class S3KeySensor(BaseSensorOperator):
    """``S3KeySensor(task_id="wait", bucket_key="s3://lake/in/{{ ds }}.csv", aws_conn_id="lake")``.

    ``bucket_key`` is one key or a list; each a full ``s3://`` URL, or a key in ``bucket_name`` (or the
    connection's default bucket). With ``wildcard_match`` a key is a shell pattern (``*``, ``?``), with
    ``use_regex`` a regular expression; each must match at least one object. ``check_fn(files)`` (given the
    found objects' ``Key``/``Size`` ... dicts, and any context values it names) decides beyond existence.
    """

    template_fields: Sequence[str] = ("aws_conn_id", "bucket_key", "bucket_name")

    def __init__(
        self,
        *,
        bucket_key: str | list[str],
        bucket_name: str | None = None,
        wildcard_match: bool = False,
        check_fn: Callable[..., bool] | None = None,
        aws_conn_id: str | None = "aws_default",
        verify: str | bool | None = None,
        use_regex: bool = False,
        metadata_keys: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket_key = bucket_key
        self.bucket_name = bucket_name
        self.wildcard_match = wildcard_match
        self.check_fn = check_fn
        self.aws_conn_id = aws_conn_id
        self.verify = verify
        self.use_regex = use_regex
        self.metadata_keys = metadata_keys or ["Size", "Key"]

    @property
    def hook(self) -> S3Hook:
        return S3Hook(aws_conn_id=self.aws_conn_id, verify=self.verify)

    def poke(self, context: Mapping[str, Any]) -> bool:
        hook = self.hook
        keys = [self.bucket_key] if isinstance(self.bucket_key, str) else list(self.bucket_key)
        files: list[dict[str, Any]] = []
        for key in keys:
            bucket, name = hook.bucket_and_key(key, self.bucket_name)
            emit(f"Poking for key: s3://{bucket}/{name}")
            found = self._matches(hook, bucket, name)
            if not found:
                return False
            files.extend(found)
        if self.check_fn is None:
            return True
        return bool(self.check_fn(files, **callable_kwargs(self.check_fn, [files], context, {})))

    def _matches(self, hook: S3Hook, bucket: str, name: str) -> list[dict[str, Any]]:
        if self.wildcard_match or self.use_regex:
            prefix = re.split(r"[*?\[]", name, maxsplit=1)[0] if self.wildcard_match else ""
            objects = hook.list_keys(bucket, prefix=prefix, object_filter=lambda objs, *_: objs)
            if self.use_regex:
                pattern = re.compile(name)
                return [self._metadata(o) for o in objects if pattern.match(o["Key"])]
            return [self._metadata(o) for o in objects if fnmatch.fnmatchcase(o["Key"], name)]
        head = hook.head_object(name, bucket)
        if head is None:
            return []
        return [self._metadata({**head, "Key": name, "Size": head.get("ContentLength")})]

    def _metadata(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        if "*" in self.metadata_keys:
            return dict(obj)
        return {k: obj.get(k) for k in self.metadata_keys}
