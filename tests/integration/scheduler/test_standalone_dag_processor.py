"""`tradewind standalone`'s DAG processor, forked from its main process: it parses the DAG folder, a new one
takes its place when it is killed, and none outlives the standalone."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.conftest import ON_SQLITE_ONLY
from tests.integration.scheduler.conftest import Deployment
from tests.waiting import wait_for
from tradewind.store import dags

SOURCE = """
from datetime import datetime
from tradewind import DAG, EmptyOperator
with DAG("{dag_id}", schedule=None, start_date=datetime(2026, 1, 1)):
    EmptyOperator(task_id="only")
"""


def _children(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found[int(entry.name)] = cmdline
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@ON_SQLITE_ONLY
def test_the_forked_dag_processor_parses_is_replaced_when_killed_and_ends_with_the_standalone(
    deployment: Deployment,
) -> None:
    deployment.env["TRADEWIND__CORE__LOAD_EXAMPLES"] = "false"
    deployment.write_dag("first", SOURCE.format(dag_id="first"))
    standalone = deployment.start("standalone", "--no-webserver", log_name="standalone")

    def stored() -> set[str]:
        with deployment.sessions() as session:
            return dags.stored_dag_ids(session=session)

    wait_for(lambda: "first" in stored(), timeout=90, what="the first DAG parsed", details=deployment.dump_logs)
    own_cmdline = Path(f"/proc/{standalone.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    forked = [pid for pid, cmdline in _children(standalone.pid).items() if cmdline == own_cmdline]
    assert len(forked) == 1, _children(standalone.pid)  # the processor is a fork, not a new interpreter
    assert not any("trigger_runner" in c for c in _children(standalone.pid).values())  # no trigger to run

    os.kill(forked[0], signal.SIGKILL)
    deployment.write_dag("second", SOURCE.format(dag_id="second"))
    wait_for(lambda: "second" in stored(), timeout=90, what="a new processor to parse", details=deployment.dump_logs)
    successors = [pid for pid, cmdline in _children(standalone.pid).items() if "dag-processor" in cmdline]
    assert len(successors) == 1, _children(standalone.pid)

    standalone.send_signal(signal.SIGTERM)
    assert standalone.wait(timeout=60) == 0
    wait_for(lambda: not _alive(successors[0]), what="the processor to end with the standalone")
