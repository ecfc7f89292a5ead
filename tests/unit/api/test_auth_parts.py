"""Session cookies, failed-login limits, secret keys, masking, redirects and passwords."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tradewind.actions.passwords import hash_password, hash_token, new_api_token, verify_password
from tradewind.api.auth.login_routes import safe_next
from tradewind.api.auth.rate_limit import LoginRateLimiter, TooManyLoginAttempts
from tradewind.api.auth.secret_key import load_secret_key
from tradewind.api.auth.sessions import SessionCodec, SessionData
from tradewind.config.settings import load_settings
from tradewind.store.engine import make_session_factory


def test_session_cookies_round_trip_and_refuse_tampering_and_age(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec("k" * 40, max_age=60)
    data = SessionData(user_id=7, fingerprint="abc", csrf="tok", key="session-key")
    cookie = codec.encode(data)
    assert codec.decode(cookie) == data
    assert codec.decode(cookie[:-2] + "xx") is None
    assert SessionCodec("other" * 10, max_age=60).decode(cookie) is None
    assert codec.decode(None) is None

    import itsdangerous.timed as timed

    real = timed.time.time
    monkeypatch.setattr(timed.time, "time", lambda: real() + 61)
    assert codec.decode(cookie) is None


def test_rate_limiter_counts_attempts_per_user_and_address_and_per_address(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    now = [datetime(2026, 12, 2, 8, 0, tzinfo=UTC)]
    limiter = LoginRateLimiter(3, write_factory=factory, clock=lambda: now[0])
    # Two webserver processes (or replicas) count the same attempts.
    other_process = LoginRateLimiter(3, write_factory=factory, clock=lambda: now[0])
    for i in range(3):
        (limiter if i % 2 else other_process).admit("ann", "1.2.3.4")
        now[0] += timedelta(seconds=1)
    with pytest.raises(TooManyLoginAttempts, match="for 'ann'; try again in 58 seconds"):
        other_process.admit("ann", "1.2.3.4")
    limiter.admit("ann", "5.6.7.8")  # the same user from elsewhere is not locked out
    limiter.admit("bob", "1.2.3.4")  # nor another user from the same address
    now[0] += timedelta(seconds=57)  # a minute after the first attempt: it left the window
    limiter.admit("ann", "1.2.3.4")
    with pytest.raises(TooManyLoginAttempts):
        limiter.admit("ann", "1.2.3.4")
    limiter.succeeded("ann", "1.2.3.4")  # a successful login takes its attempts back
    for _ in range(3):
        other_process.admit("ann", "1.2.3.4")


def test_one_address_has_a_looser_limit_over_all_usernames(migrated_engine: Engine) -> None:
    factory = make_session_factory(migrated_engine)
    limiter = LoginRateLimiter(2, write_factory=factory)
    for i in range(limiter.address_limit):
        limiter.admit(f"user{i}", "6.6.6.6")
    with pytest.raises(TooManyLoginAttempts, match=r"from 6\.6\.6\.6; try again in"):
        limiter.admit("someone-else", "6.6.6.6")
    limiter.admit("someone-else", "7.7.7.7")


def test_secret_key_is_generated_once_with_owner_only_permissions(tmp_path: Path, tw_home: Path) -> None:
    settings = load_settings()
    first = load_secret_key(settings)
    assert first == load_secret_key(load_settings())
    key_file = tw_home / "webserver_secret_key"
    assert oct(os.stat(key_file).st_mode & 0o777) == "0o600"
    assert load_secret_key(load_settings(webserver={"secret_key": "configured-" * 4})) == "configured-" * 4


def test_next_urls_stay_on_the_site() -> None:
    assert safe_next("/dags/x?run_id=1") == "/dags/x?run_id=1"
    for bad in ("//evil.example", "https://evil.example/", "javascript:alert(1)", "", None):
        assert safe_next(bad) == "/dags"


def test_passwords_and_tokens_are_stored_as_hashes() -> None:
    stored = hash_password("correct horse")
    assert "correct horse" not in stored and stored.startswith("$argon2")
    assert verify_password(stored, "correct horse") and not verify_password(stored, "wrong")
    assert not verify_password("not-a-hash", "x")
    token, digest = new_api_token()
    assert token.startswith("tw_") and digest == hash_token(token) and token not in digest
