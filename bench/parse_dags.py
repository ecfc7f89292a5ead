"""Benchmark: parse and store N DAG files of 10 tasks each with the DAG processor, on SQLite or PostgreSQL.

    .venv/bin/python bench/parse_dags.py [--files 100 1000] [--unchanged 10000] [--postgres] [--processes N]
                                         [--repeat 3]

For each ``--files`` size it writes the files into a fresh temporary DAG folder, migrates a fresh database
(not timed), then times one ``DagProcessor.run_once`` (the first parse: list, import in parsing children,
serialize, store) and a second one over the unchanged folder. For each ``--unchanged`` size it parses the
folder once (not timed) and times ``--repeat`` passes over it unchanged. It prints medians, wall and CPU
seconds (this process and its parsing children: steadier than wall time on a loaded machine), the machine,
and the command that produced the figures. Targets (issue 17): 100 files under 0.5 s, 1,000 files under
4 s, an unchanged folder of 10,000 files re-checked under 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tradewind.config.settings import Settings, load_settings
from tradewind.dag_processing.processor import DagProcessor, ProcessorResult
from tradewind.store.engine import make_engine, make_session_factory
from tradewind.store.migrate import upgrade

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

#: Ten tasks: three operator kinds, a fan-out and a fan-in, as a typical small DAG file.
DAG_FILE = textwrap.dedent(
    """
    from datetime import datetime, timedelta

    from tradewind import DAG, BashOperator, EmptyOperator, PythonOperator


    def transform(part):
        return part * 2


    with DAG(
        "bench_parse_{index:05d}",
        schedule="@daily",
        start_date=datetime(2026, 1, 1),
        catchup=False,
        default_args={{"retries": 1, "retry_delay": timedelta(seconds=30)}},
        tags=["bench"],
    ):
        start = EmptyOperator(task_id="start")
        extract = BashOperator(task_id="extract", bash_command="echo {{{{ ds }}}}")
        parts = [
            PythonOperator(task_id=f"transform_{{i}}", python_callable=transform, op_args=[i])
            for i in range(6)
        ]
        load = BashOperator(task_id="load", bash_command="echo load")
        end = EmptyOperator(task_id="end")
        start >> extract >> parts >> load >> end
    """
)


def write_dag_files(folder: Path, count: int) -> None:
    # Saved a minute ago, as in a folder at rest (a file read just after its change is hashed again).
    saved_at = time.time() - 60
    for index in range(count):
        sub = folder / f"team_{index % 10}"
        sub.mkdir(exist_ok=True)
        path = sub / f"bench_{index:05d}.py"
        path.write_text(DAG_FILE.format(index=index))
        os.utime(path, (saved_at, saved_at))


@contextmanager
def database(postgres: bool, folder: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{folder / 'tradewind.db'}"
        return
    name = f"tw_bench_parse_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings_for(home: Path, url: str, processes: int | None) -> Settings:
    os.environ["TRADEWIND_HOME"] = str(home)
    overrides: dict[str, object] = {"dags_folder": home / "dags", "load_examples": False}
    scheduler: dict[str, object] = {}
    if processes is not None:
        scheduler["parsing_processes"] = processes
    return load_settings(core=overrides, database={"url": url}, scheduler=scheduler)


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the parsing processes): less noisy than wall time
    on a shared machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def fresh_processor(count: int, postgres: bool, processes: int | None) -> Iterator[DagProcessor]:
    """A DAG processor over a new folder of ``count`` DAG files and an empty, migrated database."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-parse-") as tmp:
        home = Path(tmp)
        (home / "dags").mkdir()
        write_dag_files(home / "dags", count)
        with database(postgres, home) as url:
            settings = settings_for(home, url, processes)
            engine = make_engine(url)
            try:
                upgrade(engine)
                yield DagProcessor(settings, make_session_factory(engine))
            finally:
                engine.dispose()


def one_run(count: int, postgres: bool, processes: int | None) -> tuple[float, float, float]:
    with fresh_processor(count, postgres, processes) as processor:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        first = processor.run_once()
        first_seconds = time.perf_counter() - started
        first_cpu = cpu_seconds() - cpu_started
        started = time.perf_counter()
        processor.run_once()
        second_seconds = time.perf_counter() - started
    check(first, count)
    return first_seconds, second_seconds, first_cpu


def unchanged_runs(
    count: int, postgres: bool, processes: int | None, repeat: int
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of ``repeat`` passes over an unchanged, already parsed folder of ``count`` files."""
    with fresh_processor(count, postgres, processes) as processor:
        check(processor.run_once(), count)
        runs = []
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), cpu_seconds()
            result = processor.run_once()
            runs.append((time.perf_counter() - started, cpu_seconds() - cpu_started))
            if result.files_parsed or result.files_skipped != count:
                raise SystemExit(f"unchanged pass parsed files: {result}")
    return runs


def check(result: ProcessorResult, count: int) -> None:
    if result.errors or result.files_parsed != count or result.dags_stored != count:
        raise SystemExit(f"benchmark run went wrong: {result}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="*", default=[100, 1000], help="folder sizes to parse")
    parser.add_argument(
        "--unchanged", type=int, nargs="*", default=[], help="folder sizes to re-check unchanged"
    )
    parser.add_argument("--postgres", action="store_true", help="store in PostgreSQL on 127.0.0.1:5432")
    parser.add_argument("--processes", type=int, default=None, help="scheduler.parsing_processes")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is printed")
    args = parser.parse_args()

    backend = "PostgreSQL" if args.postgres else "SQLite"
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/parse_dags.py", *sys.argv[1:]])
    print(f"command: {command}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}; database: {backend}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    for count in args.files:
        runs = [one_run(count, args.postgres, args.processes) for _ in range(args.repeat)]
        first = statistics.median(r[0] for r in runs)
        second = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        processes = args.processes or Settings().scheduler.parsing_processes
        print(
            f"{count:>5} files x 10 tasks, {processes} parsing processes, {backend}: "
            f"first parse+store {first:.3f} s ({count / first:.0f} files/s, {cpu:.2f} CPU-s), "
            f"unchanged re-list {second * 1000:.1f} ms  [median of {args.repeat}: "
            + ", ".join(f"{r[0]:.3f}" for r in runs)
            + " s]"
        )
    for count in args.unchanged:
        rechecks = unchanged_runs(count, args.postgres, args.processes, args.repeat)
        wall = statistics.median(r[0] for r in rechecks)
        cpu = statistics.median(r[1] for r in rechecks)
        print(
            f"{count:>5} files unchanged, {backend}: re-check {wall * 1000:.1f} ms ({cpu * 1000:.0f} CPU-ms)  "
            f"[median of {args.repeat}: " + ", ".join(f"{r[0] * 1000:.0f}" for r in rechecks) + " ms]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
