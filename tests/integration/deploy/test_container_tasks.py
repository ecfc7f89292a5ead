"""One-off commands of the image on a SQLite database in a volume owned by 50000: `db migrate`,
`dag-processor --once`, and `tasks run` of the mounted DAG as a worker pod runs it, with the orphans its
task leaves behind reaped by tini."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.container_image import ContainerImage
from tests.waiting import wait_for
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.states import TaskInstanceState
from tradewind.store import task_instances
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.tables import TaskInstanceModel

from .role_containers import DAG_FILE, DAG_ID, DAGS, DATA, LOGS, RUN_ID, START_TIMEOUT, Podman, exited, folder

pytestmark = pytest.mark.container


@dataclass
class Volume:
    podman: Podman
    data: Path
    logs: Path
    dags: Path
    engine: Engine

    def queue(self, task_id: str) -> None:
        """Put the try in queued, as the scheduler does before an executor starts `tasks run`."""
        key = TaskInstanceKey(DAG_ID, RUN_ID, task_id, -1)
        with transaction(make_session_factory(self.engine)) as session:
            assert task_instances.transition(session=session, key=key, expected=None,
                                             target=TaskInstanceState.SCHEDULED)  # fmt: skip
            assert task_instances.transition(
                session=session, key=key, expected=TaskInstanceState.SCHEDULED, target=TaskInstanceState.QUEUED,
                values={"try_number": 1, "queued_at": datetime.now(UTC)},
            )  # fmt: skip

    def state(self, task_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(TaskInstanceModel.state).where(
                TaskInstanceModel.dag_id == DAG_ID, TaskInstanceModel.task_id == task_id))  # fmt: skip


@pytest.fixture(scope="module")
def volume(tradewind_image: ContainerImage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Volume]:
    """SQLite on a volume owned by 50000, logs group-writable for group 0 (the chart's fsGroup), the DAG
    folder owned by 50000; migrated, parsed and triggered by commands in containers."""
    base = tmp_path_factory.mktemp("volume")
    data = folder(base / "data", owner=50000, mode=0o755)
    logs = folder(base / "logs", owner=0, mode=0o2775)
    dags = folder(base / "dags", owner=50000, mode=0o755)
    (dags / "container_roles.py").write_text(DAG_FILE)
    env = {"TRADEWIND__DATABASE__URL": f"sqlite:///{DATA}/tradewind.db"}
    volumes = [f"{data}:{DATA}", f"{logs}:{LOGS}", f"{dags}:{DAGS}"]
    podman = Podman(tradewind_image, uuid.uuid4().hex[:8], env, volumes)
    migrated = podman.run("db", "migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    for command in (["dag-processor", "--once"], ["dags", "trigger", DAG_ID, "--run-id", RUN_ID]):
        done = podman.run(*command)
        assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(f"sqlite:///{data / 'tradewind.db'}")
    try:
        yield Volume(podman, data, logs, dags, engine)
    finally:
        podman.remove_all()
        engine.dispose()


def test_db_migrate_writes_sqlite_on_a_volume_owned_by_50000(volume: Volume) -> None:
    database = volume.data / "tradewind.db"
    assert database.stat().st_uid == 50000
    with volume.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def test_tasks_run_executes_a_try_of_the_mounted_dag_as_user_50000(volume: Volume) -> None:
    volume.queue("whoami")
    ran = volume.podman.run("tasks", "run", DAG_ID, "whoami", RUN_ID)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert volume.state("whoami") == TaskInstanceState.SUCCESS
    assert (volume.logs / "task-uid").read_text().strip() == "50000"
    assert (volume.dags / "written-by-task").stat().st_uid == 50000
    [log] = (volume.logs / f"dag_id={DAG_ID}").rglob("attempt=1.log")
    assert log.stat().st_uid == 50000 and log.read_text()


def test_orphans_of_a_task_are_reaped_and_the_container_exits(volume: Volume) -> None:
    volume.queue("orphans")
    name = volume.podman.start("tasks", "run", DAG_ID, "orphans", RUN_ID)
    pid_file = volume.logs / "orphan.pid"
    pid = wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), what="the orphan's pid file",
                   timeout=START_TIMEOUT, interval=0.2, details=lambda: volume.podman.logs(name))  # fmt: skip

    def reaped() -> bool:
        # A zombie keeps its /proc entry until its parent (tini, PID 1) waits for it.
        return volume.podman.exec(name, "test", "!", "-e", f"/proc/{pid}").returncode == 0

    wait_for(reaped, what=f"the orphan {pid} (exited after 1 s) to be reaped", timeout=60, interval=0.5,
             details=lambda: volume.podman.exec(name, "bash", "-c", "cat /proc/[0-9]*/stat").stdout)  # fmt: skip
    (volume.logs / "release").touch()
    state = wait_for(exited(volume.podman, name), what="the task container to exit", timeout=60, interval=0.5,
                     details=lambda: volume.podman.logs(name))  # fmt: skip
    assert state["ExitCode"] == 0, volume.podman.logs(name)
    assert volume.state("orphans") == TaskInstanceState.SUCCESS
