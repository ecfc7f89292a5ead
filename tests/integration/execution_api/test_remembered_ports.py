"""Schedulers sharing a host and a home: one started in place of a killed one serves on the killed one's
port, though another scheduler holds the port remembered last, and though the killed one's server child still
holds it for a moment, so the tries the killed one left running (they retry their calls) reach the new one."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from tradewind.api.execution import embedded
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


def _record(home: Path, lines: str) -> None:
    (home / "run").mkdir(exist_ok=True)
    (home / "run" / f"execution-api-port.{socket.gethostname()}").write_text(lines)


def _held_port() -> socket.socket:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    return holder


def test_a_replacement_waits_for_the_port_the_dead_schedulers_server_still_holds(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The killed scheduler's server child stops a moment after it: the replacement, started at once, waits
    for that port instead of taking another one the tries left running would never call."""
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", f"sqlite:///{tw_home / 'tradewind.db'}")
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid: a scheduler that is gone
    holder = _held_port()  # its server child, still stopping
    port = holder.getsockname()[1]
    _record(tw_home, f"{port} {dead.pid}\n")
    threading.Timer(1.0, holder.close).start()
    replacement = EmbeddedExecutionApi(load_settings())
    try:
        replacement.start()
        assert _port(replacement) == port
        assert f"{port} {os.getpid()}" in (tw_home / "run").joinpath(
            f"execution-api-port.{socket.gethostname()}"
        ).read_text().splitlines()
    finally:
        replacement.stop()


def test_a_port_a_live_scheduler_holds_is_not_waited_for(tw_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", f"sqlite:///{tw_home / 'tradewind.db'}")
    monkeypatch.setattr(embedded, "PORT_TAKEOVER_SECONDS", 3600.0)  # a wait would hang the test into its timeout
    holder = _held_port()
    port = holder.getsockname()[1]
    _record(tw_home, f"{port} {os.getppid()}\n")  # a live process: another scheduler of this host
    api = EmbeddedExecutionApi(load_settings())
    try:
        api.start()
        assert _port(api) != port
    finally:
        api.stop()
        holder.close()


def test_a_port_a_dead_scheduler_never_gave_back_is_waited_for_once(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken by something else since: the scheduler waits out the takeover window once, serves elsewhere and
    forgets that port, so the next start does not wait for it again."""
    monkeypatch.setenv("TRADEWIND__DATABASE__URL", f"sqlite:///{tw_home / 'tradewind.db'}")
    monkeypatch.setattr(embedded, "PORT_TAKEOVER_SECONDS", 0.5)
    dead = subprocess.Popen(["true"])
    dead.wait()
    holder = _held_port()  # never closed while the scheduler starts
    port = holder.getsockname()[1]
    _record(tw_home, f"{port} {dead.pid}\n")
    api = EmbeddedExecutionApi(load_settings())
    try:
        api.start()
        assert _port(api) != port
        recorded = (tw_home / "run" / f"execution-api-port.{socket.gethostname()}").read_text().split()
        assert str(port) not in recorded
        assert recorded == [str(_port(api)), str(os.getpid())]
    finally:
        api.stop()
        holder.close()
