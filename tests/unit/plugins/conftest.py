"""Plugins are process-wide: each test here starts with none loaded and leaves none behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradewind.plugins import registry
from tradewind.sdk import macros


@pytest.fixture(autouse=True)
def no_plugins_leak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_loaded", {})
    before = set(vars(macros))
    yield
    for name in set(vars(macros)) - before:
        delattr(macros, name)
