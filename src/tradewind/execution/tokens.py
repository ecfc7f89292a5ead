"""Per-try tokens: signed (HS256 JWT), naming one try, short-lived, with a scope saying what they allow.

- ``claim``: handed to an executor with a queued try; good for one thing, moving that try from queued to
  running. It lives as long as a try may wait in a queue (``queued_token_ttl``), and is worthless once the
  try is claimed, since the try is no longer queued.
- ``run``: returned by the claim; everything a running try may do. Short-lived (``token_ttl``), renewed by
  each heartbeat, refused once the try has ended (the server checks the try's state on every call).
- ``ended``: returned with the try's end, for its callbacks: reads and variable writes, no state changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import SecretStr

from tradewind.config.secret_files import MIN_LENGTH, persisted_secret
from tradewind.config.settings import Settings
from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.workload import ExecuteTask
from tradewind.sdk.errors import AuthenticationError, ConfigError

ALGORITHM = "HS256"
AUDIENCE = "tradewind-execution-api"


class TokenScope(StrEnum):
    CLAIM = "claim"
    RUN = "run"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class TryIdentity:
    """The one try a token speaks for."""

    key: TaskInstanceKey
    try_number: int

    def __str__(self) -> str:
        return f"{self.key} try {self.try_number}"


@dataclass(frozen=True, slots=True)
class TaskToken:
    identity: TryIdentity
    scope: TokenScope
    expires_at: datetime


class InvalidTaskToken(AuthenticationError):
    """A token that is missing, forged, expired, or of the wrong scope."""


class TokenSigner:
    """Issues and verifies try tokens with one secret (the scheduler issues, every API server verifies)."""

    def __init__(self, secret: str, *, run_ttl: float, claim_ttl: float) -> None:
        if len(secret) < MIN_LENGTH:
            raise ValueError("the execution API signing secret must be at least 32 characters")
        self._secret = secret
        self.run_ttl = timedelta(seconds=run_ttl)
        self.claim_ttl = timedelta(seconds=claim_ttl)

    def signing_secret(self) -> SecretStr:
        """The secret, for a server process this one starts (it must verify what this one issues)."""
        return SecretStr(self._secret)

    def issue(self, identity: TryIdentity, scope: TokenScope, *, now: datetime | None = None) -> str:
        now = now or utcnow()
        ttl = self.claim_ttl if scope is TokenScope.CLAIM else self.run_ttl
        key = identity.key
        claims = {
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(8),
            "scope": scope.value,
            "dag_id": key.dag_id,
            "run_id": key.run_id,
            "task_id": key.task_id,
            "map_index": key.map_index,
            "try_number": identity.try_number,
        }
        import jwt  # at the first token, not at import: PyJWT imports cryptography (~5 MiB an idle process need not hold)

        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def warm_up(self) -> None:
        """Import PyJWT and sign and check one token now, rather than at the first try (~30 ms, on its path):
        for processes that sign a token per try anyway (`tradewind scheduler` and, sharing its pages, its
        execution API child)."""
        identity = TryIdentity(TaskInstanceKey("warm-up", "warm-up", "warm-up", -1), 1)
        self.verify(self.issue(identity, TokenScope.CLAIM))

    def verify(self, token: str) -> TaskToken:
        """The token's try and scope. Raises InvalidTaskToken (never saying more than why)."""
        import jwt  # see issue()

        try:
            # "iat" is not checked against this clock: after the wall clock steps back (NTP), every token
            # issued in the minutes before would be "not yet valid" and the running tries' calls refused
            # (ADR 0015). The signature and "exp" are what make a token good.
            claims = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                options={"require": ["exp", "iat", "aud", "scope"], "verify_iat": False},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise InvalidTaskToken("the task token has expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidTaskToken(f"invalid task token: {exc}") from None
        try:
            scope = TokenScope(claims["scope"])
            identity = TryIdentity(
                TaskInstanceKey(
                    str(claims["dag_id"]),
                    str(claims["run_id"]),
                    str(claims["task_id"]),
                    int(claims["map_index"]),
                ),
                int(claims["try_number"]),
            )
        except (KeyError, TypeError, ValueError):
            raise InvalidTaskToken("invalid task token: its claims do not name a try") from None
        return TaskToken(identity, scope, datetime.fromtimestamp(claims["exp"], tz=UTC))


#: Where the signing secret is kept when ``[execution_api] jwt_secret`` is not set.
SECRET_FILE = "execution_api_secret"


def signer_from_settings(settings: Settings) -> TokenSigner:
    """The signer of ``settings``: the configured secret, else one generated once under TRADEWIND_HOME."""
    configured = settings.execution_api.jwt_secret
    secret = configured.get_secret_value() if configured is not None else ""
    if not secret:
        secret = persisted_secret(settings.home / SECRET_FILE, key="execution_api.jwt_secret")
    elif len(secret) < MIN_LENGTH:
        raise ConfigError(
            f"execution_api.jwt_secret is shorter than {MIN_LENGTH} characters",
            key="execution_api.jwt_secret",
        )
    api = settings.execution_api
    return TokenSigner(secret, run_ttl=api.token_ttl, claim_ttl=api.queued_token_ttl)


class WorkloadTokens:
    """What the scheduler adds to each workload it hands an executor: a claim token and the API's URL."""

    def __init__(self, signer: TokenSigner, api_url: str) -> None:
        self.signer = signer
        self.api_url = api_url

    def attach(self, workload: ExecuteTask) -> ExecuteTask:
        identity = TryIdentity(workload.ti_key, workload.try_number)
        token = self.signer.issue(identity, TokenScope.CLAIM)
        return workload.model_copy(update={"token": token, "api_url": self.api_url})
