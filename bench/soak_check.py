"""The soak's verdict, from the database and the ledger: each try's code ran at most once per phase (and
exactly once for a try that succeeded), no code ran in a try the database does not record, no try is left
unfinished, every run ended in the state its tasks imply, and nothing designed to succeed failed."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradewind.store.tables import DagRunModel, TaskInstanceHistoryModel, TaskInstanceModel

#: (dag_id, run_id, task_id, map_index)
TiKey = tuple[str, str, str, int]
ENDED = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
FAILED = frozenset({"failed", "upstream_failed"})


@dataclass
class Try:
    number: int
    state: str | None
    reason: str | None


@dataclass
class Verdict:
    runs: int = 0
    task_instances: int = 0
    tries: int = 0
    ledger_lines: int = 0
    first_try_successes: int = 0
    retried: int = 0
    #: Tries whose code returned but that the database records as failed, by reason (a runner killed after
    #: the code ended, a runner that could not report before the zombie check): retried per the task's rule.
    outcomes_lost: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    run_states: Counter[str] = field(default_factory=Counter)


#: Per task instance: how many times its code ran, by (try number, phase).
Ledger = dict[TiKey, Counter[tuple[int, str]]]


def read_ledger(path: Path) -> tuple[Ledger, int]:
    ledger: Ledger = defaultdict(Counter)
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        dag_id, run_id, task_id, map_index, try_number, phase, _pid = line.split()
        ledger[(dag_id, run_id, task_id, int(map_index))][(int(try_number), phase)] += 1
    return ledger, len(lines)


def _tries(session: Session) -> tuple[dict[TiKey, str | None], dict[TiKey, dict[int, Try]]]:
    states: dict[TiKey, str | None] = {}
    tries: dict[TiKey, dict[int, Try]] = defaultdict(dict)
    for h in session.scalars(select(TaskInstanceHistoryModel)):
        key = (h.dag_id, h.run_id, h.task_id, h.map_index)
        tries[key][h.try_number] = Try(h.try_number, h.state, h.state_reason)
    for ti in session.scalars(select(TaskInstanceModel)):
        key = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        states[key] = ti.state
        if ti.try_number > 0:
            tries[key][ti.try_number] = Try(ti.try_number, ti.state, ti.state_reason)
    return states, tries


def _history(tries: dict[int, Try], ran: Counter[tuple[int, str]]) -> str:
    parts = []
    for n in sorted({*tries, *(t for t, _p in ran)}):
        t = tries.get(n)
        ran_in = ", ".join(f"{p} x{c}" for (tn, p), c in sorted(ran.items()) if tn == n) or "no code"
        shown = f"{t.state}" + (f" ({t.reason})" if t and t.reason else "") if t else "NOT IN THE DATABASE"
        parts.append(f"try {n}: {shown}; ran {ran_in}")
    return "; ".join(parts) or "no try"


def check(sessions: sessionmaker[Session], ledger_path: Path, final_phase: dict[str, str]) -> Verdict:
    verdict = Verdict()
    ledger, verdict.ledger_lines = read_ledger(ledger_path)
    with sessions() as session:
        runs = {(r.dag_id, r.run_id): r.state for r in session.scalars(select(DagRunModel))}
        states, tries = _tries(session)
    verdict.runs, verdict.task_instances = len(runs), len(states)
    verdict.run_states.update(str(s) for s in runs.values())
    by_run: dict[tuple[str, str], list[str | None]] = defaultdict(list)
    for key, state in states.items():
        by_run[key[:2]].append(state)
    for (dag_id, run_id), state in sorted(runs.items()):
        ti_states = by_run.get((dag_id, run_id), [])
        implied = (
            "running" if any(s not in ENDED for s in ti_states)
            else "failed" if any(s in FAILED for s in ti_states)
            else "success"
        )  # fmt: skip
        if state not in ("success", "failed"):
            verdict.violations.append(f"run {dag_id} {run_id} left {state}")
        elif state != implied:
            verdict.violations.append(f"run {dag_id} {run_id} is {state} but its tasks imply {implied}")
        elif state == "failed":
            verdict.violations.append(
                f"run {dag_id} {run_id} failed although its tasks are designed to succeed"
            )
    for key in sorted(set(states) | set(ledger)):
        state, ti_tries, ran = states.get(key), tries.get(key, {}), ledger.get(key, Counter())
        name = f"{key[0]}.{key[2]}" + (f"[{key[3]}]" if key[3] >= 0 else "") + f" in {key[1]}"
        problems = _problems(state, ti_tries, ran, final_phase.get(key[2], "run"))
        verdict.tries += len(ti_tries)
        verdict.retried += len(ti_tries) > 1
        verdict.first_try_successes += state == "success" and list(ti_tries) == [1]
        for n, t in ti_tries.items():
            if t.state != "success" and ran[(n, "end")]:
                verdict.outcomes_lost[_reason_kind(t.reason)] += 1
        for problem in problems:
            verdict.violations.append(f"{name}: {problem} [{_history(ti_tries, ran)}]")
    return verdict


def _problems(
    state: str | None, ti_tries: dict[int, Try], ran: Counter[tuple[int, str]], final: str
) -> list[str]:
    problems = []
    if state is None and ran:
        problems.append("code ran but the task instance has no state")
    elif state not in ENDED and state is not None:
        problems.append(f"left {state}")
    if state in FAILED:
        problems.append(f"ended {state} although designed to succeed")
    for (n, phase), count in ran.items():
        if n not in ti_tries:
            problems.append(f"code ran ({phase}) in try {n}, which the database does not record")
        elif count > 1:
            problems.append(f"code ({phase}) ran {count} times in try {n}")
    for n, t in ti_tries.items():
        if t.state == "success" and ran[(n, final)] != 1:
            problems.append(f"try {n} succeeded but its code ({final}) ran {ran[(n, final)]} times")
        if t.state in ("failed", "up_for_retry") and not t.reason:
            problems.append(f"try {n} {t.state} with no reason stated")
    return problems


def _reason_kind(reason: str | None) -> str:
    """The reason without what varies from try to try (numbers)."""
    return " ".join(
        "N" if word.strip("().,s").isdigit() else word for word in (reason or "no reason").split()
    )
