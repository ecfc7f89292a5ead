"""Opt-in: build the image with a working container engine and smoke-test it (non-root, read-only root,
the webserver answering /health, a clean stop on SIGTERM). Runs with `pytest -m container` or
TRADEWIND_CONTAINER_TESTS=1 when `docker info` or `podman info` succeeds; skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.waiting import wait_for

from .conftest import REPO

pytestmark = pytest.mark.container

BUILD_TIMEOUT = 1800


def _engine() -> str | None:
    for name in ("docker", "podman"):
        program = shutil.which(name)
        if (
            program
            and subprocess.run([program, "info"], capture_output=True, check=False, timeout=60).returncode
            == 0
        ):
            return program
    return None


@pytest.fixture(scope="module")
def image(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    asked = "container" in (request.config.getoption("markexpr") or "") or os.environ.get(
        "TRADEWIND_CONTAINER_TESTS"
    )
    if not asked:
        pytest.skip(
            "container tests are opt-in: run `pytest -m container` or set TRADEWIND_CONTAINER_TESTS=1"
        )
    engine = _engine()
    if engine is None:
        pytest.skip("no working container engine: `docker info` and `podman info` both failed")
    tag = f"tradewind-test:{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [engine, "build", "-f", str(REPO / "deploy" / "docker" / "Dockerfile"), "-t", tag, str(REPO)],
        capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    try:
        yield engine, tag
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, check=False)


def run(image: tuple[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    engine, tag = image
    return subprocess.run(
        [engine, "run", "--rm", "--read-only", "--tmpfs", "/tmp", tag, *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_image_runs_tradewind_as_non_root_on_a_read_only_root(image: tuple[str, str]) -> None:
    version = run(image, "version")
    assert version.returncode == 0, version.stderr
    identity = run(image, "bash", "-c", 'echo "$(id -u):$(id -g) $TRADEWIND_HOME"')
    assert identity.stdout.strip() == "50000:0 /opt/tradewind"
    examples = run(
        image,
        "python",
        "-c",
        "import importlib.resources as r; print(len(list(r.files('tradewind.example_dags').iterdir())))",
    )
    assert int(examples.stdout.strip()) > 1
    packages = run(image, "python", "-c", "import psycopg, celery, kubernetes; print('ok')")
    assert packages.stdout.strip() == "ok", packages.stderr


def test_webserver_answers_health_and_stops_on_sigterm(image: tuple[str, str]) -> None:
    engine, tag = image
    name = f"tradewind-smoke-{uuid.uuid4().hex[:8]}"
    script = "tradewind db migrate && exec tradewind-entrypoint webserver"
    started = subprocess.run(
        [engine, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "-p", "127.0.0.1::8080",
         "-e", "TRADEWIND__DATABASE__URL=sqlite:////tmp/tradewind.db",
         "-e", "TRADEWIND__WEBSERVER__SECRET_KEY=" + uuid.uuid4().hex * 2, tag, "bash", "-c", script],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        ports = json.loads(
            subprocess.run([engine, "inspect", name], capture_output=True, text=True, check=True).stdout
        )
        host_port = ports[0]["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"]
        def healthy() -> httpx.Response | None:
            response = httpx.get(f"http://127.0.0.1:{host_port}/health", headers={"Accept": "application/json"})
            return response if response.status_code == 200 else None

        response = wait_for(
            healthy, what="the container's webserver to answer /health", timeout=120, interval=0.5,
            ignoring=(httpx.HTTPError,),
            details=lambda: subprocess.run([engine, "logs", name], capture_output=True, text=True).stderr,
        )  # fmt: skip
        assert response.json()["metadatabase"]["status"] == "healthy"
        began = time.monotonic()
        subprocess.run([engine, "stop", "--time", "30", name], capture_output=True, check=True)
        assert time.monotonic() - began < 20, "the webserver ignored SIGTERM and was killed"
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True, check=False)
