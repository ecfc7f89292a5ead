"""Virtual environments of other projects (Apache Airflow, its REST clients), built at test time and cached.

Tradewind promises Airflow's meaning, so some tests ask Airflow itself (an oracle) or drive Airflow's own
clients against Tradewind. Those packages are never vendored and never installed into Tradewind's own
environment: each set of pinned requirements gets its own virtual environment under
``$TRADEWIND_TEST_VENVS`` (default ``~/.cache/tradewind-test-venvs``), named by a hash of the requirements,
built once (with ``uv`` when it is installed, else pip) and reused by later runs. A lock file keeps two
pytest processes from building the same one at once; a half-built environment is never marked ready.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

# Pins shared by every suite that talks to Airflow, so one environment serves them all.
AIRFLOW_VERSION = "3.3.2"
AIRFLOW_TASK_SDK_VERSION = "1.3.2"
AIRFLOW_STANDARD_PROVIDER_VERSION = "1.21.0"
AIRFLOW_ORACLE_REQUIREMENTS = (
    f"apache-airflow-core=={AIRFLOW_VERSION}",
    f"apache-airflow-task-sdk=={AIRFLOW_TASK_SDK_VERSION}",
    "time-machine>=2.14",
)


class ExternalVenvError(RuntimeError):
    """An environment could not be built (the installer's output is in the message)."""


def venvs_root() -> Path:
    return Path(os.environ.get("TRADEWIND_TEST_VENVS", Path.home() / ".cache" / "tradewind-test-venvs"))


def _uv() -> str | None:
    """The ``uv`` binary beside this interpreter or on PATH (it is a dev dependency)."""
    beside = Path(sys.executable).with_name("uv")
    if beside.exists():
        return str(beside)
    return shutil.which("uv")


def ensure_venv(requirements: tuple[str, ...] | list[str], *, timeout: float = 900) -> Path:
    """The interpreter of a cached virtual environment holding exactly ``requirements``."""
    reqs = sorted(requirements)
    key = hashlib.sha256(json.dumps([sys.version_info[:2], reqs]).encode()).hexdigest()[:16]
    root = venvs_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / key
    python = target / "bin" / "python"
    ready = target / ".ready"
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists() and python.exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        uv = _uv()
        if uv is not None:
            steps = [
                [uv, "venv", "--quiet", "--python", sys.executable, str(target)],
                [uv, "pip", "install", "--quiet", "--python", str(python), *reqs],
            ]
        else:
            venv.EnvBuilder(with_pip=True).create(target)
            steps = [[str(python), "-m", "pip", "install", "--quiet", *reqs]]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True, timeout=timeout)
            if result.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                raise ExternalVenvError(
                    f"building the test environment for {reqs} failed ({' '.join(step[:3])}):\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
                )
        (root / key / "requirements.json").write_text(json.dumps(reqs))
        ready.touch()
        return python


def run_json(python: Path, script: str, payload: Any, *, timeout: float = 600) -> Any:
    """Run ``script`` (a file path) under ``python`` with ``payload`` as JSON on stdin; return its JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWIND", "AIRFLOW"))}
    env["PYTHONHASHSEED"] = "0"
    result = subprocess.run(
        [str(python), script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if result.returncode != 0:
        raise ExternalVenvError(f"{script} failed (exit {result.returncode}):\n{result.stderr[-6000:]}")
    return json.loads(result.stdout)
