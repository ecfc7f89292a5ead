"""Schedulers sharing a host and a home: one started in place of a killed one serves on the killed one's
port, though another scheduler holds the port remembered last, so the tries the killed one left running
(they retry their calls) reach the new one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.api.execution.embedded import EmbeddedExecutionApi
from tradewind.config.settings import load_settings


def _port(api: EmbeddedExecutionApi) -> int:
    return int(api.url.rsplit(":", 1)[1].split("/", 1)[0])


def test_a_replacement_scheduler_takes_the_port_of_the_one_that_died(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", f"sqlite:///{tw_home / 'tradewind.db'}")
    settings = load_settings()
    first, second = EmbeddedExecutionApi(settings), EmbeddedExecutionApi(settings)
    first.start()
    second.start()
    replacement = EmbeddedExecutionApi(settings)
    try:
        assert _port(first) != _port(second)
        first.stop()  # as when its scheduler is killed: the socket closes with the process
        replacement.start()
        assert _port(replacement) == _port(first)
    finally:
        for api in (second, replacement):
            api.stop()
