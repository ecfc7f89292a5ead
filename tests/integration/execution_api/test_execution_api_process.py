"""The execution API served from its own process: the scheduler's child (restarted when it dies, gone when
the scheduler dies, even by SIGKILL), and `tradewind execution-api` on its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_for
from tests.warm_cli import TRADEWIND
from tradewind.config.settings import Settings

DEADLINE = 30.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def answers_without_token(url: str) -> bool:
    """The API is served: a claim without a token is refused with 401 (not a connection error)."""
    try:
        return httpx.post(f"{url}/try/claim", json={}, timeout=5).status_code == 401
    except httpx.HTTPError:
        return False


@pytest.fixture
def parent(settings: Settings, tw_home: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A process that serves the execution API from a child, as `tradewind scheduler` does."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from tradewind.api.execution.embedded import EmbeddedExecutionApi
            from tradewind.config.settings import load_settings

            server = EmbeddedExecutionApi(load_settings(), in_child=True)
            print(server.start(), flush=True)
            sys.stdin.read()  # until the test closes it
            server.stop()
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_the_child_serves_is_restarted_when_it_dies_and_stops_with_a_clean_stop(
    parent: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = parent
    assert url.startswith("http://127.0.0.1:") and url.endswith("/execution")
    wait_for(lambda: answers_without_token(url), what="the child to serve", timeout=DEADLINE)
    (child,) = children_of(proc.pid)
    assert "execution-api" in Path(f"/proc/{child}/cmdline").read_text()
    # Its arguments and environment hold no secret: the settings came through its stdin.
    assert "--inherited-socket" in Path(f"/proc/{child}/cmdline").read_text()

    os.kill(child, signal.SIGKILL)
    wait_for(lambda: [c for c in children_of(proc.pid) if c != child and alive(c)] != [], what="another child", timeout=DEADLINE)
    wait_for(lambda: answers_without_token(url), what="the same URL to answer again", timeout=DEADLINE)

    (current,) = [c for c in children_of(proc.pid) if alive(c)]
    assert proc.stdin is not None
    proc.stdin.close()  # the parent stops its server and exits
    assert proc.wait(timeout=DEADLINE) == 0
    wait_for(lambda: not alive(current), what="the child to exit with its parent", timeout=DEADLINE)


def test_the_child_never_outlives_a_killed_parent(parent: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = parent
    wait_for(lambda: answers_without_token(url), what="the child to serve", timeout=DEADLINE)
    (child,) = children_of(proc.pid)
    proc.kill()
    proc.wait()
    wait_for(lambda: not alive(child), what="the orphaned child to exit", timeout=DEADLINE)
    assert not answers_without_token(url)


def test_tradewind_execution_api_serves_on_its_own(settings: Settings, tw_home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [TRADEWIND, "execution-api", "--port", str(port)], stderr=subprocess.PIPE, text=True, env=os.environ
    )
    url = f"http://127.0.0.1:{port}/execution"
    try:
        wait_for(lambda: answers_without_token(url), what="tradewind execution-api to serve", timeout=DEADLINE)
        # Only the execution API: no UI, no REST API.
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/dags", timeout=5).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then ends by the signal it caught, as a service manager expects.
        assert proc.wait(timeout=DEADLINE) in (0, -signal.SIGTERM)
