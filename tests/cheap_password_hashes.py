"""Password hashes for test users that cost nothing to check.

argon2 verifies a password with the parameters stored in its hash, so a hash made with the cheapest ones is
checked by the product's own code exactly as a real one is, in under a millisecond instead of about 0.2 CPU
seconds (argon2id's defaults: 3 passes over 64 MiB in 4 lanes). A suite that logs users in a few hundred
times spends that on nothing it tests. What the product stores is covered with its real parameters by
tests/unit/api/test_auth_parts.py and every test that creates a user through the CLI or the API."""

from __future__ import annotations

from argon2 import PasswordHasher


def cheap_hash(password: str) -> str:
    """An argon2id hash of ``password`` with the smallest cost argon2 allows to be stored."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(password)
