"""The real scheduler, runner and `tradewind celery worker` processes with `executor = "celery"`: a DAG spread
over two workers on different queues, a worker SIGKILLed mid-task, a scheduler restart and a broker restart
mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.celery.celery_harness import (
    SHARED_REDIS,
    TRADEWIND,
    Broker,
    RedisServer,
    StartWorker,
    Worker,
    make_broker,
)
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for

from tradewind.core.keys import TaskInstanceKey
from tradewind.store import task_instances

pytestmark = pytest.mark.redis


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'tradewind.db'}"


def _celery_deployment(home: Path, db_url: str, broker: Broker) -> Deployment:
    dep = Deployment(home, db_url)
    dep.env.update(broker.env)
    dep.env.update({
        "TRADEWIND__CORE__EXECUTOR": "celery",
        "TRADEWIND__SCHEDULER__ZOMBIE_THRESHOLD": "10",
    })
    return dep


@pytest.fixture
def deployment(tw_home: Path, sqlite_url: str, redis_broker: Broker) -> Iterator[Deployment]:
    dep = _celery_deployment(tw_home, sqlite_url, redis_broker)
    try:
        yield dep
    finally:
        dep.stop_all()


def _worker(start_worker: StartWorker, broker: Broker, dep: Deployment, tag: str, queues: list[str],
            concurrency: int = 2, runner: str = "fork") -> Worker:
    """A worker running the real runner: forked from the worker (the default), or exec'd with
    ``runner=TRADEWIND``. Like a worker of a real deployment, it has no database credentials: its tries reach
    shared state through the execution API only."""
    env = {name: value for name, value in dep.env.items() if name != "TRADEWIND__DATABASE__URL"}
    return start_worker(broker, tag=tag, queues=queues, concurrency=concurrency, runner=runner,
                        extra_env={**env, "WORKER_TAG": tag}, without_env=("TRADEWIND__DATABASE__URL",))


def _ti(dep: Deployment, dag_id: str, run_id: str, task_id: str):  # type: ignore[no-untyped-def]
    with dep.sessions() as session:
        return task_instances.get_task_instance(session=session, key=TaskInstanceKey(dag_id, run_id, task_id))


def _log(dep: Deployment, dag_id: str, task_id: str, run_id: str, try_number: int = 1) -> str:
    done = dep.tw("tasks", "logs", dag_id, task_id, run_id, "--try-number", str(try_number), check=False)
    return done.stdout


TWO_QUEUES = """
from datetime import datetime
from tradewind import DAG, BashOperator, task

with DAG("celery_e2e", schedule=None, start_date=datetime(2026, 1, 1)):
    @task(queue="{alpha}")
    def produce():
        import os
        return {{"n": 21, "made_on": os.environ["WORKER_TAG"]}}

    @task(queue="{beta}")
    def consume(value):
        import os
        print("consumed", value["n"] * 2, "made on", value["made_on"], "used on", os.environ["WORKER_TAG"])

    @task(queue="{alpha}")
    def probe():
        import os
        with open("/proc/self/environ", "rb") as handle:
            initial = handle.read().decode(errors="replace")
        print("database settings seen:", [n for n in os.environ if "DATABASE" in n], "DATABASE" in initial)

    report = BashOperator(task_id="report", bash_command="echo report on $WORKER_TAG", queue="{alpha}")
    anywhere = BashOperator(task_id="anywhere", bash_command="echo default queue on $WORKER_TAG")
    consume(produce()) >> report >> anywhere
    probe()
"""


def test_a_dag_runs_across_two_workers_on_different_queues(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker
) -> None:
    broker = redis_broker
    alpha, beta = broker.queue("alpha"), broker.queue("beta")
    deployment.write_dag("celery_e2e", TWO_QUEUES.format(alpha=alpha, beta=beta))
    deployment.parse()
    _worker(start_worker, broker, deployment, "a", [alpha, broker.settings.default_queue])
    _worker(start_worker, broker, deployment, "b", [beta])
    deployment.start_scheduler()

    run_id = deployment.tw("dags", "trigger", "celery_e2e").stdout.strip()

    assert deployment.wait_run("celery_e2e", run_id, timeout=90) == "success", deployment.dump_logs()
    assert "consumed 42 made on a used on b" in _log(deployment, "celery_e2e", "consume", run_id)
    assert "report on a" in _log(deployment, "celery_e2e", "report", run_id)
    assert "default queue on a" in _log(deployment, "celery_e2e", "anywhere", run_id)
    assert "database settings seen: [] False" in _log(deployment, "celery_e2e", "probe", run_id)


WARM_FILE = """
import os
from datetime import datetime
from pathlib import Path
from tradewind import DAG, PythonOperator, chain

# Who imports this file, and whether that process's environment held a secret setting then.
with open(Path(os.environ["TW_TEST_MARKERS"]) / "imports", "a") as handle:
    handle.write(f"{{os.getpid()}} {{'TRADEWIND__CELERY__BROKER_URL' in os.environ}}\\n")

with DAG("celery_warm", schedule=None, start_date=datetime(2026, 1, 1)):
    def whoami():
        return {{"pid": os.getpid(), "ppid": os.getppid()}}

    chain(*[PythonOperator(task_id=f"t{{i}}", python_callable=whoami, queue="{queue}") for i in range(3)])
"""


def test_a_pool_process_imports_a_dag_file_once_for_its_tries(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker, tmp_path: Path
) -> None:
    """The pool process that forks the tries imports their DAG file once (ADR 0031), as a try would: with no
    secret setting in its environment; each try forked from it finds the file imported."""
    markers = tmp_path / "markers"
    markers.mkdir()
    deployment.env["TW_TEST_MARKERS"] = str(markers)
    queue = redis_broker.queue("warm")
    deployment.write_dag("celery_warm", WARM_FILE.format(queue=queue))
    deployment.parse()
    _worker(start_worker, redis_broker, deployment, "a", [queue], concurrency=1)
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "celery_warm").stdout.strip()
    assert deployment.wait_run("celery_warm", run_id, timeout=90) == "success", deployment.dump_logs()
    tries = [_ti(deployment, "celery_warm", run_id, f"t{i}") for i in range(3)]
    with deployment.sessions() as session:
        from tradewind.store import xcom

        seen = [xcom.get_xcom(session=session, dag_id="celery_warm", run_id=run_id, task_id=f"t{i}")
                for i in range(3)]  # fmt: skip
    assert all(t.state == "success" for t in tries)
    [pool] = {s["ppid"] for s in seen}  # one pool process forked them all
    imports = dict(line.split() for line in (markers / "imports").read_text().splitlines())
    assert imports[str(pool)] == "False"  # imported there, without the broker's URL in sight
    assert not {str(s["pid"]) for s in seen} & set(imports)  # no try imported the file again


KILLABLE = """
from datetime import datetime, timedelta
from tradewind import DAG, BashOperator

with DAG("killable", schedule=None, start_date=datetime(2026, 1, 1)):
    BashOperator(
        task_id="long",
        bash_command=(
            'echo "try {{{{ ti.try_number }}}} on $WORKER_TAG"; if [ "$WORKER_TAG" = a ]; then sleep 120; fi'
        ),
        retries=1,
        retry_delay=timedelta(seconds=0),
        queue="{queue}",
    )
"""


def _kill_worker_a_mid_try(deployment: Deployment, broker: Broker, start_worker: StartWorker) -> str:
    """Trigger ``killable`` with worker a alone on its queue, start worker b once try 1 runs on a, then
    SIGKILL a; returns the run's id."""
    queue = broker.queue("work")
    deployment.write_dag("killable", KILLABLE.format(queue=queue))
    deployment.parse()
    doomed = _worker(start_worker, broker, deployment, "a", [queue], concurrency=1)
    deployment.start_scheduler()
    run_id = str(deployment.tw("dags", "trigger", "killable").stdout.strip())
    wait_for(lambda: "try 1 on a" in _log(deployment, "killable", "long", run_id), timeout=60,
             what="try 1 to run on worker a", details=deployment.dump_logs)  # fmt: skip
    _worker(start_worker, broker, deployment, "b", [queue], concurrency=1)
    os.kill(doomed.proc.pid, signal.SIGKILL)
    return run_id


def test_a_worker_sigkilled_mid_task_fails_the_try_and_the_retry_runs_elsewhere(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker
) -> None:
    run_id = _kill_worker_a_mid_try(deployment, redis_broker, start_worker)

    assert deployment.wait_run("killable", run_id, timeout=90) == "success", deployment.dump_logs()
    ti = _ti(deployment, "killable", run_id, "long")
    assert ti.try_number == 2
    assert "try 2 on b" in _log(deployment, "killable", "long", run_id, try_number=2)


def test_a_try_lost_with_its_worker_gives_back_its_executor_slot(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker
) -> None:
    """With room for one try at a time (core.parallelism = 1), the try of a SIGKILLed worker must not keep
    its slot: the broker keeps its message unacknowledged (visibility_timeout, 6 h by default) and Celery
    never reports it ended, but its runner recorded it up for retry, so the retry is dispatched at once."""
    deployment.env["TRADEWIND__CORE__PARALLELISM"] = "1"
    run_id = _kill_worker_a_mid_try(deployment, redis_broker, start_worker)

    assert deployment.wait_run("killable", run_id, timeout=90) == "success", deployment.dump_logs()
    assert "try 2 on b" in _log(deployment, "killable", "long", run_id, try_number=2)


RESTARTABLE = """
from datetime import datetime
from tradewind import DAG, BashOperator

with DAG("restartable", schedule=None, start_date=datetime(2026, 1, 1)):
    first = BashOperator(task_id="first", bash_command="sleep 4; echo first done")
    second = BashOperator(task_id="second", bash_command="echo second done")
    first >> second
"""


def test_a_scheduler_restart_mid_run_adopts_the_running_try(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker
) -> None:
    deployment.env["TRADEWIND__SCHEDULER__HEARTBEAT_INTERVAL"] = "1"
    deployment.env["TRADEWIND__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD"] = "3"
    deployment.write_dag("restartable", RESTARTABLE)
    deployment.parse()
    _worker(start_worker, redis_broker, deployment, "a", [redis_broker.settings.default_queue], runner=TRADEWIND)
    scheduler = deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "restartable").stdout.strip()
    wait_for(lambda: _ti(deployment, "restartable", run_id, "first").state == "running", timeout=60,
               what="first to be running", details=deployment.dump_logs)

    scheduler.send_signal(signal.SIGKILL)
    scheduler.wait(timeout=10)
    deployment.start_scheduler()

    assert deployment.wait_run("restartable", run_id, timeout=90) == "success", deployment.dump_logs()
    first = _ti(deployment, "restartable", run_id, "first")
    assert first.try_number == 1  # adopted, not run again
    assert _log(deployment, "restartable", "first", run_id).count("first done") == 1


def test_a_broker_restart_mid_run_loses_nothing(
    tw_home: Path, sqlite_url: str, token: str, private_redis: RedisServer, start_worker: StartWorker
) -> None:
    broker = make_broker("redis", token, private_redis.url)
    dep = _celery_deployment(tw_home, sqlite_url, broker)
    try:
        dep.write_dag("restartable", RESTARTABLE)
        dep.parse()
        worker = _worker(start_worker, broker, dep, "a", [broker.settings.default_queue], runner=TRADEWIND)
        dep.start_scheduler()
        run_id = dep.tw("dags", "trigger", "restartable").stdout.strip()
        wait_for(lambda: _ti(dep, "restartable", run_id, "first").state == "running", timeout=60,
                   what="first to be running", details=dep.dump_logs)

        private_redis.stop()
        private_redis.start()

        # The worker reconnects and keeps consuming (Celery 5.7.0 crashed here: docs/adr/0004).
        wait_for(lambda: dep.run_state("restartable", run_id) in ("success", "failed")
                   or worker.proc.poll() is not None, timeout=120, what="the run to finish",
                   details=lambda: dep.dump_logs() + worker.log()[-5000:])
        assert worker.proc.poll() is None, f"the worker died on the broker restart:\n{worker.log()[-5000:]}"
        assert dep.run_state("restartable", run_id) == "success", dep.dump_logs()
        assert _ti(dep, "restartable", run_id, "first").try_number == 1
        assert _ti(dep, "restartable", run_id, "second").try_number == 1
    finally:
        dep.stop_all()


def test_tries_sent_before_any_worker_starts_wait_for_one(
    deployment: Deployment, redis_broker: Broker, start_worker: StartWorker
) -> None:
    """Tries sent while no worker listens wait in the broker and run once a worker starts."""
    deployment.write_dag("restartable", RESTARTABLE)
    deployment.parse()
    deployment.start_scheduler()
    run_id = deployment.tw("dags", "trigger", "restartable").stdout.strip()
    wait_for(lambda: _ti(deployment, "restartable", run_id, "first").state == "queued", timeout=60,
               what="first to be queued", details=deployment.dump_logs)
    _worker(start_worker, redis_broker, deployment, "late", [redis_broker.settings.default_queue])
    assert deployment.wait_run("restartable", run_id, timeout=90) == "success", deployment.dump_logs()




@pytest.mark.rabbitmq
def test_rabbitmq_connections_dropped_mid_run_lose_nothing_and_run_nothing_twice(
    tw_home: Path, sqlite_url: str, rabbitmq_broker: Broker, rabbitmq_vhost: str, redis_broker: Broker,
    start_worker: StartWorker,
) -> None:
    """The shared RabbitMQ cannot be restarted under other people's tests, so the test closes every
    connection of its own virtual host, which is what clients see when the broker restarts: unacknowledged
    messages are requeued and everyone reconnects. Results are in Redis, as docs/celery.md recommends."""
    broker = rabbitmq_broker
    broker.env["TRADEWIND__CELERY__RESULT_BACKEND"] = SHARED_REDIS
    dep = _celery_deployment(tw_home, sqlite_url, broker)
    try:
        dep.write_dag("restartable", RESTARTABLE)
        dep.parse()
        _worker(start_worker, broker, dep, "a", [broker.settings.default_queue])
        dep.start_scheduler()
        run_id = dep.tw("dags", "trigger", "restartable").stdout.strip()
        wait_for(lambda: _ti(dep, "restartable", run_id, "first").state == "running", timeout=60,
                   what="first to be running", details=dep.dump_logs)

        subprocess.run(["rabbitmqctl", "-q", "close_all_connections", "-p", rabbitmq_vhost, "test restart"],
                       check=True, capture_output=True, timeout=60)

        assert dep.wait_run("restartable", run_id, timeout=120) == "success", dep.dump_logs()
        assert _ti(dep, "restartable", run_id, "first").try_number == 1
        assert _log(dep, "restartable", "first", run_id).count("first done") == 1
    finally:
        dep.stop_all()


def test_tries_a_forgetful_broker_lost_are_sent_again_instead_of_staying_queued(
    tw_home: Path, sqlite_url: str, token: str, forgetful_redis: RedisServer, start_worker: StartWorker
) -> None:
    """A Redis broker restarted without persistence loses the tries waiting in it (and their results). The
    executor notices (the broker's epoch key is gone) and hands them back; the scheduler sends them again
    without using a retry, so they run once a worker comes, instead of staying queued forever."""
    broker = make_broker("redis", token, forgetful_redis.url)
    dep = _celery_deployment(tw_home, sqlite_url, broker)
    try:
        dep.write_dag("restartable", RESTARTABLE)
        dep.parse()
        dep.start_scheduler()
        run_id = dep.tw("dags", "trigger", "restartable").stdout.strip()
        wait_for(lambda: _ti(dep, "restartable", run_id, "first").state == "queued", timeout=60,
                   what="first to be queued (no worker yet)", details=dep.dump_logs)

        forgetful_redis.stop()
        forgetful_redis.start()
        wait_for(lambda: "lost its queued messages" in dep.dump_logs(), timeout=60,
                   what="the executor to notice the lost messages", details=dep.dump_logs)
        _worker(start_worker, broker, dep, "late", [broker.settings.default_queue])

        assert dep.wait_run("restartable", run_id, timeout=90) == "success", dep.dump_logs()
        assert _ti(dep, "restartable", run_id, "first").try_number == 1  # sent again, not retried
    finally:
        dep.stop_all()
