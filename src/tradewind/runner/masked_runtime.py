"""The TaskRuntime task code gets: the channel's, with the values of sensitive variables (password, secret,
token ...) and connections' passwords and secret extras handed to the try's secrets masker as they are read,
so they never reach its log in clear."""

from __future__ import annotations

from typing import Any, cast

from tradewind.runner.secrets_masking import SecretsMasker, connection_secrets, is_sensitive_name
from tradewind.sdk.runtime import TaskRuntime


class _MaskingRuntime:
    def __init__(self, inner: TaskRuntime, masker: SecretsMasker) -> None:
        self._inner = inner
        self._masker = masker

    def get_variable(self, key: str) -> str | None:
        value = self._inner.get_variable(key)
        if value is not None and is_sensitive_name(key):
            self._masker.add(value)
        return value

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        fields = self._inner.get_connection(conn_id)
        if fields is not None:
            self._masker.add(connection_secrets(fields))
        return fields

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def masking_runtime(inner: TaskRuntime, masker: SecretsMasker) -> TaskRuntime:
    return cast(TaskRuntime, _MaskingRuntime(inner, masker))
