"""Who is calling: session cookies, HTTP basic and bearer tokens, resolved to a Principal with a role.

Roles rank viewer < op < admin: op may trigger, clear, mark and pause; admin may also manage variables,
pools and delete DAG metadata. Cookie-authenticated requests that change state must carry the session's
CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``); basic and bearer callers need none.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from tradewind.actions.passwords import check_password, dummy_hash, hash_token, password_fingerprint
from tradewind.api.auth.rate_limit import LoginRateLimiter
from tradewind.api.auth.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, SessionCodec, tokens_match
from tradewind.core.clock import utcnow
from tradewind.sdk.errors import AuthenticationError, PermissionDeniedError
from tradewind.store import api_tokens, users, web_sessions
from tradewind.store.audit import record_audit
from tradewind.store.engine import transaction
from tradewind.store.tables import UserModel

ROLE_RANK: dict[str, int] = {"viewer": 0, "op": 1, "admin": 2}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Seconds a verified basic-auth credential is remembered, so API scripts do not pay argon2 per request.
BASIC_CACHE_SECONDS = 300.0
TOKEN_TOUCH_SECONDS = 60.0

Via = Literal["session", "basic", "token"]


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: str
    via: Via
    csrf: str | None = None
    #: The zone this user picked for the UI's times (None: the webserver's default_ui_timezone).
    timezone: str | None = None

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class Authenticator:
    """Checks credentials against the user and token tables; records failed logins."""

    def __init__(
        self,
        read_factory: sessionmaker[Session],
        write_factory: sessionmaker[Session],
        codec: SessionCodec,
        limiter: LoginRateLimiter,
    ) -> None:
        self._read = read_factory
        self._write = write_factory
        self.codec = codec
        self.limiter = limiter
        self._lock = threading.Lock()
        self._basic_cache: dict[str, tuple[float, int]] = {}
        self._token_touched: dict[int, float] = {}

    def warm_up(self) -> None:
        """Make the dummy hash now (a fraction of a second of argon2), so the first unknown username costs
        no more than any other. The app calls it once its routes are in, before it takes logins."""
        dummy_hash()

    def login(self, username: str, password: str, address: str, *, via: str = "form") -> UserModel:
        """The user these credentials belong to; a failure is counted, audited and raised. Unknown and
        inactive users cost one password check too, so timing does not tell which usernames exist."""
        self.limiter.admit(username, address)
        with self._read() as session:
            user = users.find_user(session=session, username=username)
        matches = check_password(user.password_hash if user is not None else None, password)
        if user is None or not user.active or not matches:
            with transaction(self._write) as session:
                record_audit(
                    session=session,
                    event="login_failed",
                    owner=username,
                    extra={"address": address, "via": via},
                    now=utcnow(),
                )
            raise AuthenticationError(f"invalid username or password for {username!r}")
        self.limiter.succeeded(username, address)
        return user

    def resolve(self, request: Request) -> Principal | None:
        header = request.headers.get("authorization")
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() == "basic":
                return self._from_basic(value.strip(), client_address(request))
            if scheme.lower() == "bearer":
                return self._from_bearer(value.strip())
            raise AuthenticationError(f"unsupported Authorization scheme {scheme!r}; use Basic or Bearer")
        return self._from_cookie(request.cookies.get(SESSION_COOKIE))

    def _from_cookie(self, cookie: str | None) -> Principal | None:
        data = self.codec.decode(cookie)
        if data is None:
            return None
        with self._read() as session:
            found = web_sessions.find_live_session(
                session=session, session_hash=hash_token(data.key), now=utcnow()
            )
        if found is None:
            return None  # logged out, expired, or the user's password changed since
        _web_session, user = found
        if (
            user.id != data.user_id
            or not user.active
            or password_fingerprint(user.password_hash) != data.fingerprint
        ):
            return None
        return Principal(user.id, user.username, user.role, "session", data.csrf, user.ui_timezone)

    def _from_basic(self, value: str, address: str) -> Principal:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed HTTP basic credentials") from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError("malformed HTTP basic credentials: expected username:password")
        if "\x00" in decoded:  # no user has one, and PostgreSQL cannot even compare such a string
            raise AuthenticationError("malformed HTTP basic credentials: NUL character")
        with self._read() as session:
            user = users.find_user(session=session, username=username)
        cache_key = hashlib.sha256(
            f"{username}\0{password}\0{user.password_hash if user else ''}".encode()
        ).hexdigest()
        now = time.monotonic()
        with self._lock:
            cached = self._basic_cache.get(cache_key)
        if (
            user is not None
            and user.active
            and cached is not None
            and cached[0] > now
            and cached[1] == user.id
        ):
            return Principal(user.id, user.username, user.role, "basic")
        user = self.login(username, password, address, via="basic")
        with self._lock:
            self._basic_cache = {k: v for k, v in self._basic_cache.items() if v[0] > now}
            self._basic_cache[cache_key] = (now + BASIC_CACHE_SECONDS, user.id)
        return Principal(user.id, user.username, user.role, "basic")

    def _from_bearer(self, token: str) -> Principal:
        with self._read() as session:
            found = api_tokens.find_by_hash(session=session, token_hash=hash_token(token))
        if found is None:
            raise AuthenticationError("invalid API token")
        row, user = found
        now = utcnow()
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthenticationError(
                f"API token {row.name or row.id!s} expired at {row.expires_at.isoformat()}"
            )
        if not user.active:
            raise AuthenticationError(f"user {user.username!r} is not active")
        self._touch(row.id)
        return Principal(user.id, user.username, user.role, "token")

    def _touch(self, token_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._token_touched.get(token_id, -TOKEN_TOUCH_SECONDS) < TOKEN_TOUCH_SECONDS:
                return
            self._token_touched[token_id] = now
        with transaction(self._write) as session:
            api_tokens.touch(session=session, token_id=token_id, at=utcnow())


async def authenticate(request: Request) -> Principal:
    """The caller, or AuthenticationError. State-changing cookie requests must carry the CSRF token."""
    existing = getattr(request.state, "principal", None)
    if isinstance(existing, Principal):
        return existing
    authenticator: Authenticator = request.app.state.ctx.authenticator
    principal = await run_in_threadpool(authenticator.resolve, request)
    if principal is None:
        raise AuthenticationError(
            "authentication required: log in, or send HTTP basic credentials or a bearer token"
        )
    if request.method not in SAFE_METHODS and principal.via == "session":
        await _check_csrf(request, principal)
    request.state.principal = principal
    return principal


async def optional_principal(request: Request) -> Principal | None:
    authenticator: Authenticator = request.app.state.ctx.authenticator
    try:
        return await run_in_threadpool(authenticator.resolve, request)
    except AuthenticationError:
        return None


async def _check_csrf(request: Request, principal: Principal) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(principal.csrf, given):
        raise PermissionDeniedError(
            "CSRF token missing or invalid: reload the page and submit the form again "
            f"(form field {CSRF_FIELD!r} or header 'X-CSRF-Token')"
        )


def require(role: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting callers with at least ``role``."""

    async def dependency(request: Request) -> Principal:
        principal = await authenticate(request)
        if not principal.has_role(role):
            raise PermissionDeniedError(
                f"user {principal.username!r} has role {principal.role!r}; this needs role {role!r} or higher"
            )
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


require_viewer = require("viewer")
require_op = require("op")
require_admin = require("admin")
