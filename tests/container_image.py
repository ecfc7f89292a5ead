"""The project's image for tests: deploy/docker/Dockerfile built once per content of its build context and
shared by every pytest-xdist worker (and every concurrent test run) through a file lock, plus the podman
flags this machine needs (``PODMAN_RUN`` / ``PODMAN_BUILD`` from ../shared/tools/container-engine.sh).

Tests ask for the session fixture ``tradewind_image``; without podman it skips, or fails under CI.
``TRADEWIND_TEST_IMAGE=TAG`` tests that image instead of building one.
``python -m tests.container_image`` builds (or finds) the image and prints its tag: scripts/test.sh starts
it in the background while lint and type checks run, and the fixture then waits on the same lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.required_tools import missing_tool

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "deploy" / "docker" / "Dockerfile"
#: What the Dockerfile copies from the build context: a change anywhere here means a new image.
CONTEXT_PATHS = ("pyproject.toml", "README.md", ".dockerignore", "src", "deploy")
SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".pyd", ".db", ".db-wal", ".db-shm")
DEFAULT_BASE_IMAGE = "localhost/python:3.11-slim-bookworm"
REPOSITORY = "localhost/tradewind-test"
#: Longest a build (or the wait for another process's build) may take on a loaded machine.
BUILD_TIMEOUT = 1800.0
#: Images of older trees kept besides the newest (other test runs on this machine may still use them).
KEEP_OLD_IMAGES = 2
ENGINE_TOOL_PATHS = (REPO.parent / "shared" / "tools" / "container-engine.sh",
                     Path("/work/shared/tools/container-engine.sh"))  # fmt: skip


@dataclass(frozen=True)
class ContainerImage:
    """A built image: ``run`` is the ``podman run`` argv prefix with this machine's flags (append options,
    then ``tag`` and the container's arguments)."""

    tag: str
    run: list[str]
    engine: str


class ContainerEngineMissing(Exception):
    """No working container engine (or no base image) on this machine."""


class ImageBuildFailed(Exception):
    """``podman build`` of deploy/docker/Dockerfile failed; the message ends with the build's output."""


@dataclass(frozen=True)
class Engine:
    program: str
    run_flags: list[str]
    build_flags: list[str]
    base_image: str


def find_engine() -> Engine:
    """podman and its flags: from PODMAN_RUN / PODMAN_BUILD when exported (``.ci/run`` does), else from the
    shared container-engine tool when present, else podman's defaults."""
    program = shutil.which("podman")
    if program is None:
        raise ContainerEngineMissing(
            "podman is not installed (../shared/tools/container-engine.sh installs it)"
        )
    env = dict(os.environ)
    if "PODMAN_RUN" not in env:
        tool = next((path for path in ENGINE_TOOL_PATHS if path.is_file()), None)
        if tool is not None:
            env.update(_exports(subprocess.run(["bash", str(tool)], capture_output=True, text=True, check=False,
                                               timeout=BUILD_TIMEOUT).stdout))  # fmt: skip
    run = shlex.split(env.get("PODMAN_RUN", "podman run"))
    build = shlex.split(env.get("PODMAN_BUILD", "podman build"))
    base = env.get("TRADEWIND_TEST_BASE_IMAGE", DEFAULT_BASE_IMAGE)
    info = subprocess.run([program, "info"], capture_output=True, text=True, check=False, timeout=120)
    if info.returncode != 0:
        raise ContainerEngineMissing(f"`podman info` failed: {info.stderr.strip()[-500:]}")
    if subprocess.run([program, "image", "exists", base], check=False, timeout=120).returncode != 0:
        raise ContainerEngineMissing(
            f"base image {base} is missing (../shared/tools/container-engine.sh builds it)"
        )
    return Engine(program, [program, *run[1:]], [program, *build[1:]], base)


def _exports(text: str) -> dict[str, str]:
    """The variables of an ``export A='x' B=y`` line as printed by the container-engine tool."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if words[:1] == ["export"]:
            found.update(word.split("=", 1) for word in words[1:] if "=" in word)  # type: ignore[misc]
    return found


def context_digest(base_image_id: str) -> str:
    """A hash of every file the build copies (path, executable bit, content) and of the base image."""
    digest = hashlib.sha256(base_image_id.encode())
    for path in sorted(_context_files()):
        relative = path.relative_to(REPO).as_posix()
        digest.update(relative.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        else:
            digest.update(b"x" if os.access(path, os.X_OK) else b"-")
            digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _context_files() -> Iterator[Path]:
    for name in CONTEXT_PATHS:
        top = REPO / name
        if top.is_file():
            yield top
            continue
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
            for entry in [*files, *(d for d in dirs if (Path(root) / d).is_symlink())]:
                if not entry.endswith(SKIPPED_SUFFIXES):
                    yield Path(root) / entry


def _image_exists(engine: Engine, tag: str) -> bool:
    return subprocess.run([engine.program, "image", "exists", tag], check=False, timeout=120).returncode == 0


def _base_image_id(engine: Engine) -> str:
    inspected = subprocess.run([engine.program, "image", "inspect", "--format", "{{.Id}}", engine.base_image],
                               capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    return inspected.stdout.strip()


def ensure_image(engine: Engine) -> ContainerImage:
    """The image of the current tree: found by its tag, or built, under a lock shared by every process."""
    lock_path = Path(tempfile.gettempdir()) / "tradewind-test-image.lock"
    with lock_path.open("a") as lock:
        deadline = time.monotonic() + BUILD_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ImageBuildFailed(
                        f"waited {BUILD_TIMEOUT:g}s for another process's image build ({lock_path})"
                    ) from None
                time.sleep(0.5)
        try:
            # Hashed under the lock: a build that just finished may have been of this very tree.
            tag = f"{REPOSITORY}:{context_digest(_base_image_id(engine))}"
            if not _image_exists(engine, tag):
                _build(engine, tag)
                _remove_old_images(engine, keep=tag)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return ContainerImage(tag=tag, run=engine.run_flags, engine=engine.program)


def _build(engine: Engine, tag: str) -> None:
    command = [*engine.build_flags, "--file", str(DOCKERFILE), "--build-arg", f"PYTHON_IMAGE={engine.base_image}",
               "--tag", tag, str(REPO)]  # fmt: skip
    print(f"container_image: building {tag}: {shlex.join(command)}", file=sys.stderr, flush=True)
    began = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        try:
            output, _ = process.communicate(timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            # SIGTERM first: podman then removes its build container (SIGKILL would leave it in storage).
            process.terminate()
            process.communicate(timeout=120)
            raise ImageBuildFailed(f"`{shlex.join(command)}` took over {BUILD_TIMEOUT:g}s") from None
    built = subprocess.CompletedProcess(command, process.returncode, output, "")
    if built.returncode != 0:
        raise ImageBuildFailed(f"`{shlex.join(command)}` exited {built.returncode}:\n{built.stdout[-6000:]}")
    if not _image_exists(engine, tag):
        # podman build stopped by a signal can exit 0 without an image.
        raise ImageBuildFailed(f"`{shlex.join(command)}` exited 0 but left no image {tag}:\n{output[-3000:]}")
    print(f"container_image: built {tag} in {time.monotonic() - began:.0f}s", file=sys.stderr, flush=True)


def _remove_old_images(engine: Engine, *, keep: str) -> None:
    """Drop all but the newest few images of older trees; one still used by a container stays (no -f)."""
    listed = subprocess.run(
        [engine.program, "images", "--filter", f"reference={REPOSITORY}", "--sort", "created",
         "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    old = [tag for tag in listed.stdout.split() if tag != keep]
    # `--sort created` lists the newest first.
    for tag in old[KEEP_OLD_IMAGES:]:
        subprocess.run([engine.program, "rmi", tag], capture_output=True, check=False, timeout=120)


@pytest.fixture(scope="session")
def tradewind_image() -> ContainerImage:
    """The project's image built from this tree (once per tree across workers and runs)."""
    try:
        engine = find_engine()
    except ContainerEngineMissing as exc:
        missing_tool(f"no container engine: {exc}")
    given = os.environ.get("TRADEWIND_TEST_IMAGE")
    if given:
        # An image built elsewhere (a release candidate, say) instead of this tree's.
        return ContainerImage(tag=given, run=engine.run_flags, engine=engine.program)
    return ensure_image(engine)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests using the image are `container` tests, and their timeout covers waiting for the build."""
    for item in items:
        if "tradewind_image" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.container)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(BUILD_TIMEOUT + 300))


def main() -> int:
    try:
        image = ensure_image(find_engine())
    except ContainerEngineMissing as exc:
        print(f"container_image: skipped: {exc}", file=sys.stderr)
        return 0
    except ImageBuildFailed as exc:
        print(f"container_image: {exc}", file=sys.stderr)
        return 1
    print(image.tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
