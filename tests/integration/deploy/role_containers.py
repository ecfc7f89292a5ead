"""Containers of the image run the way the Helm chart runs them (user 50000, group 0, a read-only root with
/tmp writable, volumes mounted), and the DAG the container tests mount."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.container_image import ContainerImage

DAG_ID = "container_roles"
RUN_ID = "manual__container"
HOME = "/opt/tradewind"
#: The container's side of every volume, as the chart mounts them (values.yaml: dags.mountPath, logs.mountPath).
DAGS, LOGS, DATA = f"{HOME}/dags", f"{HOME}/logs", f"{HOME}/data"
DAG_FILE = f'''
from datetime import datetime

from tradewind import DAG, BashOperator

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    BashOperator(
        task_id="whoami",
        bash_command="id -u > {LOGS}/task-uid && touch {DAGS}/written-by-task",
    )
    # An orphan reparented to PID 1 that must be reaped, and a sleeper left running when the task ends.
    BashOperator(
        task_id="orphans",
        bash_command=(
            "(sh -c 'echo $$ > {LOGS}/orphan.pid; sleep 1' &); "
            "sleep 600 >/dev/null 2>&1 & "
            "while [ ! -e {LOGS}/release ]; do sleep 0.1; done"
        ),
    )
'''
#: Slow to start on a loaded machine: a cold Python process importing Tradewind in a fresh container.
START_TIMEOUT = 180.0
STOP_GRACE = 30


@dataclass
class Podman:
    """Containers of the image, named with one token so teardown removes exactly ours."""

    image: ContainerImage
    token: str
    env: dict[str, str]
    volumes: list[str]
    names: list[str] = field(default_factory=list)

    def _args(self, name: str, env: dict[str, str] | None) -> list[str]:
        args = [*self.image.run, "--name", name, "--hostname", name,
                "--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp"]  # fmt: skip
        for volume in self.volumes:
            args += ["--volume", volume]
        for key, value in {**self.env, **(env or {})}.items():
            args += ["--env", f"{key}={value}"]
        return args

    def run(
        self, role: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        name = f"tw-{role}-{self.token}"
        command = [*self._args(name, env), "--rm", self.image.tag, role, *args]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=START_TIMEOUT * 2)

    def start(self, role: str, *args: str, env: dict[str, str] | None = None) -> str:
        name = f"tw-{role}-{self.token}"
        command = [*self._args(name, env), "--detach", self.image.tag, role, *args]
        self.names.append(name)
        started = subprocess.run(command, capture_output=True, text=True, check=False, timeout=START_TIMEOUT)
        assert started.returncode == 0, f"podman run {role}: {started.stderr}"
        return name

    def state(self, name: str) -> dict[str, object]:
        inspected = subprocess.run([self.image.engine, "inspect", "--format", "{{json .State}}", name],
                                   capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
        state: dict[str, object] = json.loads(inspected.stdout)
        return state

    def logs(self, name: str) -> str:
        out = subprocess.run([self.image.engine, "logs", name], capture_output=True, text=True, check=False)
        return f"--- {name} ---\n{out.stdout[-3000:]}{out.stderr[-3000:]}"

    def exec(self, name: str, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.image.engine, "exec", name, *command],
                              capture_output=True, text=True, check=False, timeout=120)  # fmt: skip

    def remove_all(self) -> None:
        if self.names:
            subprocess.run([self.image.engine, "rm", "--force", "--time", "0", *self.names],
                           capture_output=True, check=False, timeout=120)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def folder(path: Path, *, owner: int, mode: int) -> Path:
    """A host folder as a volume would present it: owned by ``owner`` (50000, or root with group 0 as the
    chart's fsGroup 0 makes it) with ``mode``."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.chown(path, owner, 0)
    path.chmod(mode)
    return path


def exited(podman: Podman, name: str) -> Callable[[], dict[str, object] | None]:
    """A check for wait_for: the container's state once it has stopped running."""

    def check() -> dict[str, object] | None:
        state = podman.state(name)
        return None if state["Running"] else state

    return check
