"""The Airflow example DAGs as a conformance suite: download, drop unchanged into a DAG folder, parse, test.

The wheels of apache-airflow-core and apache-airflow-providers-standard (pinned in tests/external_venvs.py) are
downloaded from the package index at test time into the cache beside the test virtual environments (never
copied into the repository); their ``example_dags`` folders are copied as they are into a fresh
TRADEWIND_HOME's DAG folder. ``tradewind dag-processor --once`` parses them, and every DAG found gets one
``tradewind dags test`` run. The commands are forked from an interpreter that has imported the CLI once
(tests/warm_cli.py), each its own process as the console script would be. The report says which
files parsed, which DAGs were found and how each run ended. Run as a script to print the report: ``python -m tests.conformance.airflow_examples``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from tests.external_venvs import AIRFLOW_STANDARD_PROVIDER_VERSION, AIRFLOW_VERSION, venvs_root
from tests.warm_cli import WarmCli

WHEELS = {
    "core": (f"apache-airflow-core=={AIRFLOW_VERSION}", "airflow/example_dags/"),
    "standard": (
        f"apache-airflow-providers-standard=={AIRFLOW_STANDARD_PROVIDER_VERSION}",
        "airflow/providers/standard/example_dags/",
    ),
}

#: DAGs left out of the success count, each with the reason (also listed in docs/airflow-compatibility.md).
LEFT_OUT: dict[str, str] = {
    "example_failed_dag": "fails by design (its task raises)",
    "example_dag_decorator": "needs the internet (its first task fetches http://httpbin.org/get)",
    "example_retry_policy": "needs the internet (calls https://api.example.com; retries for minutes first)",
    "tutorial_objectstorage": (
        "needs the internet (fetches https://air-quality-api.open-meteo.com and writes to an AWS S3 bucket through "
        "connection aws_default; also needs pandas and duckdb)"
    ),
    "example_external_task_marker_child": (
        "waits by design for a run of example_external_task_marker_parent at its own logical date, which a lone "
        "`dags test` never creates (the same in Airflow)"
    ),
}

#: The run conf an example's own documentation says to test it with (`airflow dags test DAG -c ...`).
CONF: dict[str, dict[str, object]] = {
    "example_passing_params_via_test_command": {"foo": "bar"},
    "example_params_ui_tutorial": {"required_field": "given by the conformance suite"},
}


@dataclass
class DagOutcome:
    dag_id: str
    file: str
    state: str
    seconds: float
    tail: str = ""


@dataclass
class Report:
    files: list[str] = field(default_factory=list)
    #: Import errors of the example DAG files themselves, by relative path.
    import_errors: dict[str, str] = field(default_factory=dict)
    #: Import errors of other modules in the folders (Airflow's plugins/ and libs/ beside the examples).
    other_errors: dict[str, str] = field(default_factory=dict)
    dags: list[DagOutcome] = field(default_factory=list)

    @property
    def files_parsed(self) -> int:
        return len(self.files) - len(self.import_errors)

    @property
    def counted(self) -> list[DagOutcome]:
        return [d for d in self.dags if d.dag_id not in LEFT_OUT]

    @property
    def succeeded(self) -> int:
        return sum(d.state == "success" for d in self.counted)

    def summary(self) -> str:
        lines = [
            f"files parsed: {self.files_parsed} of {len(self.files)}",
            f"DAGs found: {len(self.dags)}; runs succeeded: {self.succeeded} of {len(self.counted)} counted "
            f"({len(self.dags) - len(self.counted)} left out by design)",
        ]
        lines += [
            f"  import error {f}: {m.strip().splitlines()[-1] if m.strip() else ''}"
            for f, m in sorted(self.import_errors.items())
        ]
        lines += [f"  {d.state:8} {d.dag_id} ({d.file}, {d.seconds:.1f} s)" for d in self.dags if d.state != "success"]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "files": self.files,
                "import_errors": self.import_errors,
                "other_errors": self.other_errors,
                "dags": [asdict(d) for d in self.dags],
                "files_parsed": self.files_parsed,
                "succeeded": self.succeeded,
                "counted": len(self.counted),
            },
            indent=1,
        )


def example_folders() -> dict[str, Path]:
    """Each wheel's example_dags folder, extracted once into the cache."""
    cache = venvs_root() / "airflow-examples"
    cache.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for name, (requirement, prefix) in WHEELS.items():
            target = cache / requirement.replace("==", "-")
            if not (target / ".ready").exists():
                shutil.rmtree(target, ignore_errors=True)
                download = target / "wheel"
                subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(download), requirement],
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
                wheel = next(download.glob("*.whl"))
                with zipfile.ZipFile(wheel) as archive:
                    for member in archive.namelist():
                        if member.startswith(prefix) and not member.endswith("/"):
                            destination = target / "example_dags" / member[len(prefix):]
                            destination.parent.mkdir(parents=True, exist_ok=True)
                            destination.write_bytes(archive.read(member))
                (target / ".ready").touch()
            found[name] = target / "example_dags"
    return found


def install_examples(dags_folder: Path) -> list[str]:
    """Copy both example folders unchanged under ``dags_folder``; return the DAG files (relative paths)."""
    files = []
    for name, folder in example_folders().items():
        shutil.copytree(folder, dags_folder / name, dirs_exist_ok=True)
        files += [f"{name}/{p.name}" for p in sorted(folder.glob("*.py")) if p.name != "__init__.py"]
    return files


def _tw(cli: WarmCli, home: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWIND", "AIRFLOW"))}
    env["TRADEWIND_HOME"] = str(home)
    env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "false"
    return cli.run(list(args), env=env, timeout=timeout)


def _test_one(cli: WarmCli, home: Path, dag: dict[str, Any], timeout: float) -> DagOutcome:
    started = time.monotonic()
    name = Path(str(dag.get("fileloc") or dag.get("relative_fileloc") or "")).name
    if dag["dag_id"] in LEFT_OUT:  # not counted, so not run either (some would wait on the network)
        return DagOutcome(dag["dag_id"], name, "left out", 0.0)
    conf = ["-c", json.dumps(CONF[dag["dag_id"]])] if dag["dag_id"] in CONF else []
    try:
        result = _tw(cli, home, "dags", "test", dag["dag_id"], *conf, timeout=timeout)
    except subprocess.TimeoutExpired:
        return DagOutcome(dag["dag_id"], name, "timeout", time.monotonic() - started)
    state = "success" if result.returncode == 0 else "failed"
    tail = "" if state == "success" else (result.stdout + result.stderr)[-1500:]
    return DagOutcome(dag["dag_id"], name, state, time.monotonic() - started, tail)


#: DAG runs at a time. Most of an example's run is waiting (sensors, retries, sleeps, polls of the run's
#: state): measured under load, the ~80 runs use about 60 CPU seconds over about 550 run-seconds, so four
#: at a time keep two cores busier without making the runs contend, on any machine.
WORKERS = 4
#: Runs that wait out a sensor's 60 s poke interval or a 30 s delta, handed out first (the others take seconds)
#: so that none of them starts last and forms the report's tail.
LONG_FIRST = ("example_external_task", "example_sensors", "example_time_delta_sensor_async")


def run_conformance(home: Path, *, per_dag_timeout: float = 180, workers: int = WORKERS) -> Report:
    """Parse the examples once, then ``dags test`` every DAG found, ``workers`` at a time; each worker has
    its own TRADEWIND_HOME (its own database) over a copy of the same DAG folder and its own warm CLI, and
    takes the next DAG when it is free, so runs never contend."""
    dags_folder = home / "dags"
    dags_folder.mkdir(parents=True, exist_ok=True)
    report = Report(files=install_examples(dags_folder))
    count = max(1, workers)
    with ExitStack() as stack:
        clis = [stack.enter_context(WarmCli(home.parent / f"{home.name}-cli{index}")) for index in range(count)]
        _tw(clis[0], home, "db", "migrate", timeout=120).check_returncode()
        parsed = _tw(clis[0], home, "dag-processor", "--once", "-o", "json", timeout=600)
        if parsed.returncode not in (0, 1):
            raise RuntimeError(f"dag-processor --once failed: {parsed.stderr[-3000:]}")
        errors = json.loads(_tw(clis[0], home, "dags", "list-import-errors", "-o", "json", timeout=120).stdout or "[]")
        for error in errors:
            path = Path(error.get("filename") or error.get("fileloc") or "")
            try:
                relative = path.relative_to(dags_folder).as_posix()
            except ValueError:
                relative = str(path)
            text = error.get("error") or error.get("stack_trace") or error.get("message") or ""
            if relative in report.files:
                report.import_errors[relative] = text
            else:
                report.other_errors[relative] = text
        listed = sorted(
            json.loads(_tw(clis[0], home, "dags", "list", "-o", "json", timeout=120).stdout or "[]"),
            key=lambda d: d["dag_id"],
        )
        homes = [home]
        for index in range(1, count):
            other = home.parent / f"{home.name}-worker{index}"
            shutil.copytree(dags_folder, other / "dags")
            _tw(clis[index], other, "db", "migrate", timeout=120).check_returncode()
            homes.append(other)
        pending: Queue[int] = Queue()
        first = {dag_id: rank for rank, dag_id in enumerate(LONG_FIRST)}
        for position in sorted(range(len(listed)), key=lambda p: first.get(listed[p]["dag_id"], len(first))):
            pending.put(position)
        outcomes: dict[int, DagOutcome] = {}

        def work(slot: int) -> None:
            while True:
                try:
                    position = pending.get_nowait()
                except Empty:
                    return
                outcomes[position] = _test_one(clis[slot], homes[slot], listed[position], per_dag_timeout)

        with ThreadPoolExecutor(max_workers=count) as pool:
            for future in [pool.submit(work, slot) for slot in range(count)]:
                future.result()
        report.dags = [outcomes[position] for position in range(len(listed))]
    return report

if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        outcome = run_conformance(Path(scratch) / "home")
        print(outcome.summary())
        Path("test-artifacts").mkdir(exist_ok=True)
        Path("test-artifacts/airflow-conformance.json").write_text(outcome.to_json())
