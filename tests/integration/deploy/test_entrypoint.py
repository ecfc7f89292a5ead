"""The image's entrypoint, run for real with a stand-in `tradewind` program first on PATH: each role becomes
the right command, the process is exec'd (same PID, so signals reach it), migrations are waited for, and
the admin user is created once with its password over stdin."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import wait_for

from .conftest import REPO

ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.sh"

FAKE_TRADEWIND = f"""#!{sys.executable}
import json, os, signal, sys, time
log = os.environ["FAKE_LOG"]
args = sys.argv[1:]
record = {{"argv": args, "pid": os.getpid(), "env_password": os.environ.get("TRADEWIND_ADMIN_PASSWORD")}}
if args[:2] == ["users", "create"]:
    record["stdin"] = sys.stdin.read()
with open(log, "a") as out:
    out.write(json.dumps(record) + "\\n")
if args[:2] == ["db", "check"]:
    counter = log + ".checks"
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    open(counter, "w").write(str(n))
    sys.exit(0 if n >= int(os.environ.get("FAKE_DB_READY_AFTER", "1")) else 1)
if args[:2] == ["users", "list"]:
    print(os.environ.get("FAKE_USERS", "[]"))
if args[:2] == ["celery", "status"]:
    print(os.environ.get("FAKE_WORKERS", "[]"))
if args[:1] == ["scheduler"]:
    def stop(signum, frame):
        with open(log, "a") as out:
            out.write(json.dumps({{"signal": signum}}) + "\\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    open(log + ".ready", "w").close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.05)
    sys.exit(3)
"""


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "tradewind"
    fake.write_text(FAKE_TRADEWIND)
    fake.chmod(0o755)
    return {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "FAKE_LOG": str(tmp_path / "calls.jsonl"),
        "HOME": str(tmp_path),
        "TRADEWIND_MIGRATION_WAIT_INTERVAL": "0.1",
    }


def calls(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["FAKE_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run(
    env: dict[str, str], *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        env={**env, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["webserver", "--host", "0.0.0.0", "--port", "8080"]),
        (("webserver",), ["webserver", "--host", "0.0.0.0", "--port", "8080"]),
        (("webserver", "--host", "0.0.0.0", "--port", "9090"),
         ["webserver", "--host", "0.0.0.0", "--port", "9090"]),
        (("dag-processor",), ["dag-processor"]),
        (("triggerer", "--capacity", "10"), ["triggerer", "--capacity", "10"]),
        (("celery-worker", "--queues", "default,heavy", "--concurrency", "4"),
         ["celery", "worker", "--queues", "default,heavy", "--concurrency", "4"]),
        (("tasks", "run", "etl", "load", "manual__2024", "--try-number", "1"),
         ["tasks", "run", "etl", "load", "manual__2024", "--try-number", "1"]),
        (("db", "migrate"), ["db", "migrate"]),
        (("tradewind", "version"), ["version"]),
        (("users", "list", "-o", "json"), ["users", "list", "-o", "json"]),
    ],
)  # fmt: skip
def test_each_role_execs_the_right_tradewind_command(
    fake_env: dict[str, str], args: tuple[str, ...], expected: list[str]
) -> None:
    process = subprocess.Popen(
        [str(ENTRYPOINT), *args], env=fake_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    (call,) = calls(fake_env)
    assert call["argv"] == expected
    # exec: the command replaced the entrypoint's shell instead of running as its child.
    assert call["pid"] == process.pid


def test_other_programs_run_as_given(fake_env: dict[str, str]) -> None:
    result = run(fake_env, "bash", "-c", "echo hello from $0")
    assert result.returncode == 0 and result.stdout.strip() == "hello from bash"
    assert calls(fake_env) == []


def test_sigterm_reaches_the_running_process(fake_env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [str(ENTRYPOINT), "scheduler"], env=fake_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    ready = Path(fake_env["FAKE_LOG"] + ".ready")
    def started() -> bool:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        return ready.exists()

    wait_for(started, what="the scheduler stand-in to start", timeout=15)
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    started, stopped = calls(fake_env)
    assert started["argv"] == ["scheduler"] and started["pid"] == process.pid
    assert stopped == {"signal": signal.SIGTERM}


def test_wait_for_migrations_polls_until_the_schema_is_current(fake_env: dict[str, str]) -> None:
    result = run(fake_env, "wait-for-migrations", extra={"FAKE_DB_READY_AFTER": "3"})
    assert result.returncode == 0, result.stderr
    assert [c["argv"] for c in calls(fake_env)] == [["db", "check"]] * 3


def test_wait_for_migrations_gives_up_after_its_timeout(fake_env: dict[str, str]) -> None:
    extra = {"FAKE_DB_READY_AFTER": "1000000", "TRADEWIND_MIGRATION_WAIT_TIMEOUT": "1"}
    result = run(fake_env, "wait-for-migrations", extra=extra)
    assert result.returncode == 1
    assert "still not current after 1s" in result.stderr
    assert calls(fake_env), "it never asked the database"


def test_create_admin_passes_the_password_on_stdin_only(fake_env: dict[str, str]) -> None:
    extra = {
        "TRADEWIND_ADMIN_USER": "ops",
        "TRADEWIND_ADMIN_PASSWORD": "Pa55-w0rd!",
        "FAKE_USERS": '[{"username": "alice"}]',
    }
    result = run(fake_env, "create-admin", extra=extra)
    assert result.returncode == 0, result.stderr
    listed, created = calls(fake_env)
    assert listed["argv"] == ["users", "list", "-o", "json"]
    assert created["argv"] == ["users", "create", "--username", "ops", "--role", "admin", "--password-stdin"]
    assert created["stdin"].strip() == "Pa55-w0rd!"
    assert created["env_password"] is None, "the password stayed in the environment of users create"
    assert "Pa55-w0rd!" not in result.stdout + result.stderr


def test_create_admin_leaves_an_existing_user_alone(fake_env: dict[str, str]) -> None:
    extra = {
        "TRADEWIND_ADMIN_USER": "ops",
        "TRADEWIND_ADMIN_PASSWORD": "x",
        "FAKE_USERS": '[{"username": "ops", "role": "admin"}]',
    }
    result = run(fake_env, "create-admin", extra=extra)
    assert result.returncode == 0, result.stderr
    assert [c["argv"][:2] for c in calls(fake_env)] == [["users", "list"]]
    assert "exists" in result.stdout


def test_create_admin_needs_its_environment(fake_env: dict[str, str]) -> None:
    result = run(fake_env, "create-admin", extra={"TRADEWIND_ADMIN_USER": "ops"})
    assert result.returncode == 2
    assert "TRADEWIND_ADMIN_PASSWORD" in result.stderr


@pytest.mark.parametrize(
    ("workers", "alive"),
    [
        ('[{"worker": "tradewind@tw-celery-worker-7d9f-x2"}, {"worker": "tradewind@other"}]', True),
        ('[{"worker": "tradewind@other"}]', False),
        ("[]", False),
    ],
)
def test_celery_worker_alive_looks_for_this_pods_worker(
    fake_env: dict[str, str], workers: str, alive: bool
) -> None:
    extra = {"HOSTNAME": "tw-celery-worker-7d9f-x2", "FAKE_WORKERS": workers}
    result = run(fake_env, "celery-worker-alive", extra=extra)
    assert (result.returncode == 0) is alive, result.stderr
    (call,) = calls(fake_env)
    assert call["argv"][:4] == ["celery", "status", "--output", "json"]
