"""Encryption at rest of secret fields (connection passwords and extras) with Fernet keys.

``[core] fernet_key`` holds one or more keys, comma-separated: the first encrypts, every one decrypts
(``MultiFernet``), so a key can be rotated without a moment where stored values cannot be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewind.config.settings import Settings
from tradewind.sdk.errors import ConfigError, ConnectionFieldError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

SETTING = "core.fernet_key"
HOW_TO_SET = (
    "set [core] fernet_key in tradewind.toml or TRADEWIND__CORE__FERNET_KEY; make a key with "
    '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
)


class FieldCipher:
    """Encrypts and decrypts one field of one connection at a time; errors name both, never the value."""

    def __init__(self, keys: str | None) -> None:
        texts = [k.strip() for k in (keys or "").split(",") if k.strip()]
        self._fernet: MultiFernet | None = None
        if not texts:
            return
        # Only with a key: an idle process without one need not hold cryptography.
        from cryptography.fernet import Fernet, MultiFernet

        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in texts])
        except ValueError:
            raise ConfigError(
                f"[core] fernet_key holds a value that is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); {HOW_TO_SET}",
                key=SETTING,
            ) from None

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        key = settings.core.fernet_key
        return cls(key.get_secret_value() if key is not None else None)

    @property
    def has_key(self) -> bool:
        return self._fernet is not None

    def _require(self, conn_id: str, field: str) -> MultiFernet:
        if self._fernet is None:
            raise ConfigError(
                f"connection {conn_id!r}: refusing to store its {field} in clear: no Fernet key is set; "
                f"{HOW_TO_SET}",
                key=SETTING,
            )
        return self._fernet

    def encrypt(self, value: str, *, conn_id: str, field: str) -> str:
        return self._require(conn_id, field).encrypt(value.encode()).decode()

    def decrypt(self, token: str, *, conn_id: str, field: str) -> str:
        if self._fernet is None:
            raise ConnectionFieldError(
                f"the stored {field} is encrypted and no Fernet key is set; {HOW_TO_SET}",
                conn_id=conn_id,
                field=field,
            )
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConnectionFieldError(
                f"the stored {field} cannot be decrypted with any key of [core] fernet_key (a wrong or "
                "dropped key?)",
                conn_id=conn_id,
                field=field,
            ) from None

    def rotate(self, token: str, *, conn_id: str, field: str) -> str:
        """The token re-encrypted with the first key (decrypted with whichever key made it)."""
        fernet = self._require(conn_id, field)
        from cryptography.fernet import InvalidToken

        try:
            return fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConnectionFieldError(
                f"the stored {field} cannot be decrypted with any key of [core] fernet_key",
                conn_id=conn_id,
                field=field,
            ) from None
