"""Task tokens across wall-clock steps: a token issued before the clock stepped back is still good (the
running try's calls go on), an expired one is still refused (ADR 0015)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.execution.tokens import InvalidTaskToken, TokenScope, TokenSigner, TryIdentity

IDENTITY = TryIdentity(TaskInstanceKey("d", "r", "t", -1), 1)


def signer() -> TokenSigner:
    return TokenSigner("s" * 40, run_ttl=600, claim_ttl=600)


def test_a_token_issued_before_the_clock_stepped_back_is_accepted() -> None:
    token = signer().issue(IDENTITY, TokenScope.RUN, now=utcnow() + timedelta(minutes=5))
    assert signer().verify(token).identity == IDENTITY


def test_an_expired_token_is_still_refused() -> None:
    token = signer().issue(IDENTITY, TokenScope.RUN, now=utcnow() - timedelta(seconds=601))
    with pytest.raises(InvalidTaskToken, match="expired"):
        signer().verify(token)
