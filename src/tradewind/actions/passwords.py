"""Password hashing with argon2, and the bearer tokens of the REST API (stored only as hashes)."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "tw_"
MIN_PASSWORD_LENGTH = 8


def _hasher() -> PasswordHasher:
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password, made once with the same parameters as real ones: checking a password
    for a user that does not exist costs what checking one for a user that does costs."""
    return hash_password(secrets.token_urlsafe(18))


def check_password(password_hash: str | None, password: str) -> bool:
    """``verify_password``, or the same work against ``dummy_hash()`` (and False) when there is no hash."""
    if password_hash is None:
        verify_password(dummy_hash(), password)
        return False
    return verify_password(password_hash, password)


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def new_api_token() -> tuple[str, str]:
    """A fresh bearer token and the hash to store. The token itself is shown once and kept nowhere."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash, put in session cookies so a password reset ends old sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
