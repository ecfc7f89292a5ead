"""Virtualenvs for isolated tasks: built once per (Python, requirements, options), kept in a cache folder.

A venv is built under a file lock by ``uv`` when it is found (beside this interpreter or on PATH), else by
``python -m venv`` and pip. It counts as built only once its marker file is written, so a venv left half
built by a killed try is removed and built again, never reused.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from tradewind.sdk.errors import TaskExecutionError

#: Written last, after a venv is complete: its presence (with the matching hash) is what "cached" means.
MARKER_NAME = "tradewind-venv.json"
#: Environment variable naming the default cache folder (set from ``[core] venv_cache_path``).
CACHE_ENV = "TRADEWIND__CORE__VENV_CACHE_PATH"


@dataclass(frozen=True)
class VenvSpec:
    """What a venv is built from. ``python`` is an interpreter path, or a version such as ``"3.11"``."""

    python: str
    requirements: tuple[str, ...] = ()
    system_site_packages: bool = True
    pip_install_options: tuple[str, ...] = ()
    index_urls: tuple[str, ...] | None = None

    def digest(self) -> str:
        data = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(data.encode()).hexdigest()


def default_cache_folder() -> Path:
    """``[core] venv_cache_path`` (exported to the environment), else ``$TRADEWIND_HOME/venvs``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    home = os.environ.get("TRADEWIND_HOME") or str(Path.home() / "tradewind")
    return Path(home).expanduser() / "venvs"


def find_uv() -> str | None:
    """``uv`` beside this interpreter (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("uv")


def venv_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def read_marker(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def ensure_venv(spec: VenvSpec, cache_folder: Path) -> Path:
    """The python of a complete venv for ``spec`` under ``cache_folder``, building it if needed."""
    digest = spec.digest()
    folder = cache_folder / f"venv-{digest[:16]}"
    if _is_complete(folder, digest):
        print(f"Reusing the cached virtualenv {folder}", flush=True)
        return venv_python(folder)
    cache_folder.mkdir(parents=True, exist_ok=True)
    with _locked(cache_folder / f"venv-{digest[:16]}.lock"):
        if _is_complete(folder, digest):
            print(f"Reusing the virtualenv {folder} another process just built", flush=True)
            return venv_python(folder)
        if folder.exists():
            print(f"Removing the incomplete virtualenv {folder}", flush=True)
            shutil.rmtree(folder)
        try:
            build_venv(spec, folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        marker = {"hash": digest, "created_at": datetime.now(UTC).isoformat(), "spec": asdict(spec)}
        partial = folder / (MARKER_NAME + ".partial")
        partial.write_text(json.dumps(marker, indent=2), encoding="utf-8")
        partial.replace(folder / MARKER_NAME)
    print(f"Created the virtualenv {folder}", flush=True)
    return venv_python(folder)


def _is_complete(folder: Path, digest: str) -> bool:
    marker = read_marker(folder)
    return marker is not None and marker.get("hash") == digest and venv_python(folder).exists()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another process building the same virtualenv ({path})", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_venv(spec: VenvSpec, folder: Path) -> None:
    """Create the venv in ``folder`` (which must not exist) and install the requirements into it."""
    uv = find_uv()
    env = dict(os.environ)
    if uv is not None:
        create = [uv, "venv", "--python", spec.python, str(folder)]
        if spec.system_site_packages:
            create.insert(2, "--system-site-packages")
        if spec.index_urls:
            env["UV_DEFAULT_INDEX"] = spec.index_urls[0]
            if len(spec.index_urls) > 1:
                env["UV_INDEX"] = " ".join(spec.index_urls[1:])
        run_logged(create, env)
        install = [uv, "pip", "install", "--python", str(venv_python(folder))]
    else:
        create = [_interpreter(spec.python), "-m", "venv", str(folder)]
        if spec.system_site_packages:
            create.append("--system-site-packages")
        run_logged(create, env)
        if spec.index_urls is not None:
            _write_pip_conf(folder, spec.index_urls)
        install = [str(venv_python(folder)), "-m", "pip", "install"]
    if spec.requirements:
        # As a requirements file, so lines such as "-r other.txt" or "--index-url ..." work as pip's.
        listed = folder / "tradewind-requirements.txt"
        listed.write_text("\n".join(spec.requirements) + "\n", encoding="utf-8")
        run_logged([*install, *spec.pip_install_options, "-r", str(listed)], env)


def _interpreter(python: str) -> str:
    if os.sep in python:
        return python
    found = shutil.which(python if python.startswith("python") else f"python{python}")
    if found is None:
        raise TaskExecutionError(f"no interpreter for Python {python} on PATH (and uv is not installed)")
    return found


def _write_pip_conf(folder: Path, index_urls: Sequence[str]) -> None:
    if index_urls:
        lines = [f"index-url = {index_urls[0]}"]
        if len(index_urls) > 1:
            lines.append(f"extra-index-url = {' '.join(index_urls[1:])}")
    else:
        lines = ["no-index = true"]
    (folder / "pip.conf").write_text("[global]\n" + "\n".join(lines) + "\n", encoding="utf-8")


def run_logged(command: Sequence[str], env: Mapping[str, str]) -> None:
    """Run ``command`` with its output copied to ours (the task log); a non-zero exit fails the task."""
    print("Running " + " ".join(shlex.quote(c) for c in command), flush=True)
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(env),
    )
    assert process.stdout is not None
    with process:
        for raw in iter(process.stdout.readline, b""):
            sys.stdout.write(raw.decode("utf-8", errors="backslashreplace").rstrip("\n") + "\n")
            sys.stdout.flush()
    if process.returncode != 0:
        raise TaskExecutionError(
            f"building the virtualenv failed: {shlex.join(command)} exited with code {process.returncode}"
        )
