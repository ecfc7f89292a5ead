"""The long-running roles of the image's entrypoint (webserver, scheduler, dag-processor, triggerer, Celery
worker) as containers on one fresh PostgreSQL database, all started at once after `db migrate` ran in a
container; then SIGTERM through tini stops them all."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
from sqlalchemy import Engine, select

from tests.conftest import create_postgres_database, drop_postgres_database
from tests.container_image import ContainerImage
from tests.waiting import wait_for
from tradewind.store.engine import make_engine, make_session_factory, transaction
from tradewind.store.tables import DagModel, JobModel

from .role_containers import (
    DAG_FILE,
    DAG_ID,
    DAGS,
    LOGS,
    START_TIMEOUT,
    STOP_GRACE,
    Podman,
    folder,
    free_port,
)

pytestmark = [pytest.mark.container, pytest.mark.postgres, pytest.mark.redis]

SHARED_REDIS = "redis://127.0.0.1:6379/5"


@dataclass
class Services:
    podman: Podman
    engine: Engine
    url: str
    names: dict[str, str]
    migrated: subprocess.CompletedProcess[str]

    def details(self) -> str:
        return "\n".join(self.podman.logs(name) for name in self.names.values())


@pytest.fixture(scope="module")
def services(tradewind_image: ContainerImage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """The long-running roles on one fresh PostgreSQL database, started together after `db migrate`."""
    try:
        redis.Redis.from_url(SHARED_REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {SHARED_REDIS}: {exc}")
    token = uuid.uuid4().hex[:8]
    base = tmp_path_factory.mktemp("services")
    dags = folder(base / "dags", owner=0, mode=0o755)
    (dags / "container_roles.py").write_text(DAG_FILE)
    logs = folder(base / "logs", owner=0, mode=0o2775)
    database = create_postgres_database("tw_container")
    port = free_port()
    env = {
        "TRADEWIND__DATABASE__URL": database,
        "TRADEWIND__WEBSERVER__SECRET_KEY": uuid.uuid4().hex * 2,
        "TRADEWIND__EXECUTION_API__JWT_SECRET": uuid.uuid4().hex * 2,
        "TRADEWIND__CORE__FERNET_KEY": "V1lQ0mNu1ycKDJ8vTxJ3HgqXrfXw7iu4ckVu5qTOejk=",
        "TRADEWIND__CELERY__BROKER_URL": SHARED_REDIS,
        "TRADEWIND__CELERY__DEFAULT_QUEUE": f"tw-container-{token}",
    }
    podman = Podman(tradewind_image, token, env, [f"{dags}:{DAGS}:ro", f"{logs}:{LOGS}"])
    engine = make_engine(database)
    try:
        migrated = podman.run("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr
        names = {
            "webserver": podman.start("webserver", "--host", "127.0.0.1", "--port", str(port)),
            "scheduler": podman.start("scheduler", "--no-dag-processor"),
            "dag-processor": podman.start("dag-processor"),
            "triggerer": podman.start("triggerer"),
            "celery-worker": podman.start("celery-worker"),
        }
        yield Services(podman, engine, f"http://127.0.0.1:{port}", names, migrated)
    finally:
        podman.remove_all()
        engine.dispose()
        drop_postgres_database(database)
        client = redis.Redis.from_url(SHARED_REDIS)
        for key in client.scan_iter(match=f"*{token}*", count=1000):
            client.delete(key)


def _jobs(services: Services, job_type: str) -> list[JobModel]:
    with transaction(make_session_factory(services.engine)) as session:
        found = list(session.scalars(select(JobModel).where(JobModel.job_type == job_type)))
        session.expunge_all()
        return found


def test_db_migrate_brings_a_fresh_postgresql_database_to_head(services: Services) -> None:
    assert "upgraded from empty to revision" in services.migrated.stdout
    check = services.podman.run("db", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_webserver_answers_health_and_asks_for_a_login(services: Services) -> None:
    def healthy() -> httpx.Response | None:
        response = httpx.get(f"{services.url}/health", headers={"Accept": "application/json"}, timeout=30)
        return response if response.status_code == 200 else None

    health = wait_for(healthy, what="the webserver container to answer /health", timeout=START_TIMEOUT,
                      interval=0.5, ignoring=(httpx.HTTPError,), details=services.details)  # fmt: skip
    assert health.json()["metadatabase"]["status"] == "healthy"
    assert httpx.get(f"{services.url}/api/v1/dags", timeout=60).status_code == 401
    page = httpx.get(f"{services.url}/", headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 303 and "/login" in page.headers["location"]


def test_dag_processor_stores_the_dag_of_the_mounted_folder(services: Services) -> None:
    def stored() -> str | None:
        with services.engine.connect() as conn:
            return conn.scalar(select(DagModel.fileloc).where(DagModel.dag_id == DAG_ID))

    fileloc = wait_for(stored, what="the dag-processor container to store the mounted DAG",
                       timeout=START_TIMEOUT, interval=0.5, details=services.details)  # fmt: skip
    assert fileloc == f"{DAGS}/container_roles.py"


@pytest.mark.parametrize("role, job_type", [("scheduler", "scheduler"), ("triggerer", "triggerer")])
def test_service_heartbeats_from_its_container(services: Services, role: str, job_type: str) -> None:
    def running() -> list[JobModel]:
        return [job for job in _jobs(services, job_type) if job.state == "running"]

    [job] = wait_for(running, what=f"the {role} container's job row", timeout=START_TIMEOUT, interval=0.5,
                     details=services.details)  # fmt: skip
    assert job.hostname == services.names[role]


def test_celery_worker_answers_its_liveness_probe(services: Services) -> None:
    name = services.names["celery-worker"]

    def alive() -> bool:
        return services.podman.exec(name, "tradewind-entrypoint", "celery-worker-alive").returncode == 0

    wait_for(alive, what="celery-worker-alive to pass in the worker container", timeout=START_TIMEOUT,
             interval=1.0, details=services.details)  # fmt: skip


def test_sigterm_through_tini_stops_every_role_cleanly_and_promptly(services: Services) -> None:
    # Only once every role is up (the tests above wait for it), so SIGTERM meets a running service.
    test_service_heartbeats_from_its_container(services, "scheduler", "scheduler")
    test_service_heartbeats_from_its_container(services, "triggerer", "triggerer")
    test_celery_worker_answers_its_liveness_probe(services)
    names = list(services.names.values())
    began = time.monotonic()
    stopped = subprocess.run([services.podman.image.engine, "stop", "--time", str(STOP_GRACE), *names],
                             capture_output=True, text=True, check=False, timeout=STOP_GRACE * 4)  # fmt: skip
    took = time.monotonic() - began
    assert stopped.returncode == 0, stopped.stderr
    assert took < STOP_GRACE - 5, f"some role ignored SIGTERM and was killed after {took:.0f}s"
    codes = {role: services.podman.state(name)["ExitCode"] for role, name in services.names.items()}
    # uvicorn re-raises SIGTERM once its graceful shutdown is done: 143 (128 + 15), as tini passes it on.
    assert codes == {**dict.fromkeys(services.names, 0), "webserver": 143}, services.details()
    for job_type in ("scheduler", "triggerer"):
        [job] = _jobs(services, job_type)
        assert (job.state, job.end_date is not None) == ("success", True)
