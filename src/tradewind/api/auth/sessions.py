"""Signed session cookies (itsdangerous) with expiry, and the CSRF token each session carries.

The cookie names a server-side session (``store.web_sessions``) by its random key, so logging out ends it
for every copy of the cookie; the signature keeps forged cookies from reaching the database at all."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "tradewind_session"
LOGIN_CSRF_COOKIE = "tradewind_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class SessionData:
    user_id: int
    fingerprint: str
    csrf: str
    #: The server-side session's key (only its hash is stored).
    key: str


class SessionCodec:
    """Encodes sessions into cookie values and back; a cookie older than ``max_age`` seconds is refused."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._session = URLSafeTimedSerializer(secret_key, salt="tradewind.session")
        self._login = URLSafeTimedSerializer(secret_key, salt="tradewind.login-csrf")
        self.max_age = max_age

    def encode(self, data: SessionData) -> str:
        return self._session.dumps(
            {"uid": data.user_id, "fp": data.fingerprint, "csrf": data.csrf, "sid": data.key}
        )

    def decode(self, value: str | None) -> SessionData | None:
        if not value:
            return None
        try:
            raw: Any = self._session.loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        try:
            return SessionData(
                user_id=int(raw["uid"]),
                fingerprint=str(raw["fp"]),
                csrf=str(raw["csrf"]),
                key=str(raw["sid"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def encode_login_token(self, token: str) -> str:
        return self._login.dumps(token)

    def decode_login_token(self, value: str | None) -> str | None:
        """The login form's CSRF token from its cookie; valid for one hour."""
        if not value:
            return None
        try:
            raw = self._login.loads(value, max_age=3600)
        except BadSignature:
            return None
        return raw if isinstance(raw, str) else None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def new_session_key() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
