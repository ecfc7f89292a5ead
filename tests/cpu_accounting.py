"""Opt-in cost report of the test suite: wall time and CPU seconds per test and per module.

Enabled by ``TRADEWIND_TEST_COST_REPORT=path.json`` (off otherwise: nothing is sampled, nothing written).
Each pytest process (every xdist worker, or the only process) records, for every test from the start of its
setup to the end of its teardown:

- ``wall``: elapsed seconds;
- ``cpu_self``: CPU seconds (user + system) of the pytest process itself (``RUSAGE_SELF``), threads included;
- ``cpu_children``: CPU seconds of its children in that window, each with the descendants it reaped: those
  the pytest process reaped (``RUSAGE_CHILDREN``) and the growth of the live ones (``/proc``), so a server a
  module fixture started, or the warm CLI server (``tests.warm_cli``) with the commands it forked and reaped,
  counts in the tests it served;
- ``cpu_detached``: CPU seconds of descendants that no waiting of the pytest process will ever count: those
  whose parent chain no longer reaches it (daemonised, double-forked, or orphaned by a killed parent). They
  are found by an environment tag (``TW_TEST_COST_TAG``, inherited by every descendant whose environment is
  not built from scratch) and sampled from ``/proc`` at each test boundary and every half second between;
  up to the last half second of a short-lived detached process is missed;
- ``cpu_services``: CPU seconds of the shared servers (PostgreSQL, Redis, RabbitMQ, NATS) in that window, for
  every process using them at once (both workers, other users of the machine), so an upper bound;
- ``cpu_machine``: busy CPU seconds of the whole machine in that window (``/proc/stat``), to read the load.

Not counted at all: what runs in containers (podman's conmon and the container's processes are not
descendants with the tag), and descendants started with an environment built from scratch that detach.

Workers write JSON lines next to the report (``<path>.<worker>.jsonl``); the controlling process merges them
into ``<path>`` at the end of the session, with per-module sums, and removes the parts.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

ENV_REPORT = "TRADEWIND_TEST_COST_REPORT"
ENV_TAG = "TW_TEST_COST_TAG"
SAMPLE_INTERVAL = 0.5
SERVICE_COMMANDS = frozenset({"postgres", "redis-server", "beam.smp", "erl_child_setup", "nats-server"})
_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, int, float, float] | None:
    """(comm, ppid, starttime, own CPU s, reaped children's CPU s) of ``pid``, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes().decode(errors="replace")
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is state (field 3 of proc(5)); utime is field 14, so fields[11].
    own = (int(fields[11]) + int(fields[12])) / _TICK
    reaped = (int(fields[13]) + int(fields[14])) / _TICK
    return comm, int(fields[1]), int(fields[19]), own, reaped


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot (all but idle and iowait)."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(value) for value in first[:8]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


class _DescendantSampler:
    """Samples /proc for this process's tagged descendants and the shared servers."""

    def __init__(self, root: int, tag: bytes) -> None:
        self._root = root
        self._needle = b"\0" + ENV_TAG.encode() + b"=" + tag + b"\0"
        self._lock = threading.Lock()
        self._untagged: set[int] = set()  # pids neither tagged nor a server: not read again
        self._tagged: dict[tuple[int, int], int] = {}  # key -> ppid
        self._counted: dict[tuple[int, int], float] = {}  # detached CPU already attributed
        self._detached = 0.0
        self._services: dict[tuple[int, int], float] = {}
        self._services_gone = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-accounting", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL):
            self.sample()

    def _is_tagged(self, pid: int) -> bool:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False
        return self._needle in b"\0" + environ

    def sample(self) -> tuple[float, float]:
        """Sample now; return (detached descendants' CPU so far, shared servers' CPU so far)."""
        with self._lock:
            live_tagged: dict[tuple[int, int], tuple[int, float]] = {}
            live_services: dict[tuple[int, int], float] = {}
            pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
            self._untagged.intersection_update(pids)  # a pid used again later is looked at again
            for pid in pids:
                if pid == self._root or pid in self._untagged:
                    continue
                stat = _stat(pid)
                if stat is None:
                    continue
                comm, ppid, start, own, reaped = stat
                key = (pid, start)
                if comm in SERVICE_COMMANDS:
                    live_services[key] = own + reaped
                    continue
                if key not in self._tagged and not self._is_tagged(pid):
                    self._untagged.add(pid)
                    continue
                live_tagged[key] = (ppid, own + reaped)
            # Services: a process gone keeps its last reading (its parent's reaped CPU may count it again:
            # a small overcount of an upper bound).
            for key, total in self._services.items():
                if key not in live_services:
                    self._services_gone += total
            self._services = live_services
            by_pid = {key[0]: (key, ppid) for key, (ppid, _) in live_tagged.items()}
            attached: dict[int, bool] = {}

            def reaches_root(pid: int, depth: int = 0) -> bool:
                if pid in attached:
                    return attached[pid]
                _, ppid = by_pid[pid]
                result = ppid == self._root or (ppid in by_pid and depth < 64 and reaches_root(ppid, depth + 1))
                attached[pid] = result
                return result

            for key, (_, total) in live_tagged.items():
                if not reaches_root(key[0]):
                    self._detached += total - self._counted.get(key, 0.0)
                    self._counted[key] = total
            self._tagged = {key: ppid for key, (ppid, _) in live_tagged.items()}
            self._counted = {key: value for key, value in self._counted.items() if key in live_tagged}
            return self._detached, self._services_gone + sum(live_services.values())


def _live_children_cpu(root: int) -> float:
    """CPU so far of ``root``'s live children, with what each has reaped: counted as it is used, not when they
    are reaped (a module's service, the warm CLI server whose forked commands it reaps). Read with
    RUSAGE_CHILDREN at the same moment, a child reaped between two readings moves from one to the other."""
    total = 0.0
    for task in Path(f"/proc/{root}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in children:
            stat = _stat(int(pid))
            if stat is not None:
                total += stat[3] + stat[4]
    return total


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class CostReport:
    """The per-test recorder of one pytest process."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self._config = config
        self._path = path
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        self._worker = worker
        self._part = path.with_name(f"{path.name}.{worker}.jsonl")
        self._sampler: _DescendantSampler | None = None
        self._outcome: dict[str, str] = {}

    def start(self) -> None:
        os.environ[ENV_TAG] = f"{os.getpid()}-{self._worker}"
        self._sampler = _DescendantSampler(os.getpid(), os.environ[ENV_TAG].encode())
        self._part.unlink(missing_ok=True)
        self._sampler.start()

    def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.stop()

    def _reading(self) -> dict[str, float]:
        assert self._sampler is not None
        detached, services = self._sampler.sample()
        return {
            "time": time.time(),
            "wall": time.monotonic(),
            "cpu_self": _cpu(resource.RUSAGE_SELF),
            "cpu_children": _cpu(resource.RUSAGE_CHILDREN) + _live_children_cpu(os.getpid()),
            "cpu_detached": detached,
            "cpu_services": services,
            "cpu_machine": _machine_busy(),
        }

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, None, None]:
        before = self._reading()
        yield
        after = self._reading()
        record: dict[str, Any] = {
            "nodeid": item.nodeid,
            "module": item.nodeid.split("::", 1)[0],
            "worker": self._worker,
            "start": round(before["time"], 3),
            "outcome": self._outcome.pop(item.nodeid, "unknown"),
        }
        for name in ("wall", "cpu_self", "cpu_children", "cpu_detached", "cpu_services", "cpu_machine"):
            record[name] = round(after[name] - before[name], 3)
        with self._part.open("a") as part:
            part.write(json.dumps(record) + "\n")


    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """The test's outcome: failed if any phase failed, else skipped if any was, else passed."""
        previous = self._outcome.get(report.nodeid, "passed")
        outcome = report.outcome if report.outcome in ("failed", "skipped") else "passed"
        self._outcome[report.nodeid] = max(previous, outcome, key=("passed", "skipped", "failed").index)


def _merge(path: Path) -> None:
    """Merge the workers' parts into ``path``: every test, and sums per module, ranked by CPU."""
    tests: list[dict[str, Any]] = []
    for part in sorted(path.parent.glob(f"{path.name}.*.jsonl")):
        tests.extend(json.loads(line) for line in part.read_text().splitlines() if line)
        part.unlink()
    keys = ("wall", "cpu_self", "cpu_children", "cpu_detached", "cpu_services")
    modules: dict[str, dict[str, Any]] = {}
    for test in tests:
        module = modules.setdefault(test["module"], {"module": test["module"], "tests": 0, **dict.fromkeys(keys, 0.0)})
        module["tests"] += 1
        for key in keys:
            module[key] += test[key]
    for entry in [*tests, *modules.values()]:
        entry["cpu"] = round(entry["cpu_self"] + entry["cpu_children"] + entry["cpu_detached"], 3)
        entry["cpu_per_wall"] = round(entry["cpu"] / entry["wall"], 3) if entry["wall"] else 0.0
        for key in keys:
            entry[key] = round(entry[key], 3)
    ranked = sorted(modules.values(), key=lambda module: -module["cpu"])
    totals = {key: round(sum(module[key] for module in ranked), 1) for key in (*keys, "cpu")}
    path.write_text(json.dumps({"totals": totals, "modules": ranked, "tests": tests}, indent=1) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    target = os.environ.get(ENV_REPORT)
    if not target:
        return
    report = CostReport(config, Path(target).resolve())
    config.stash[_REPORT] = report
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        # A process that runs tests (the controller of an xdist run only merges).
        config.pluginmanager.register(report, "tradewind-cost-report")
        report.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    if report is None:
        return
    report.stop()
    if not hasattr(config, "workerinput"):
        _merge(Path(os.environ[ENV_REPORT]).resolve())


_REPORT = pytest.StashKey[CostReport]()
