"""Parsing DAG files in forked children: DAGs come back serialized, every way a file can fail is reported."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.unit.dag_processing.corpus import FIXTURE_DAGS, fixture_path, marked_line
from tests.waiting import wait_for
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.isolated_import import ParsedFile, parse_file, parse_files

TIMEOUT = 20.0


def _ref(path: Path, root: Path = FIXTURE_DAGS) -> DagFileRef:
    return DagFileRef(path, path.relative_to(root).as_posix())


def _parse(name: str, timeout: float = TIMEOUT) -> ParsedFile:
    return parse_file(_ref(fixture_path(name)), timeout=timeout)


def _only_error(parsed: ParsedFile) -> tuple[str, int | None]:
    assert parsed.dags == []
    assert len(parsed.errors) == 1, parsed.errors
    return parsed.errors[0].message, parsed.errors[0].lineno


def test_good_file_comes_back_as_serialized_dags() -> None:
    parsed = _parse("good_two_dags.py")

    assert parsed.errors == []
    assert sorted(d.dag_id for d in parsed.dags) == ["fixture_two_dags_classic", "fixture_two_dags_taskflow"]
    classic = next(d for d in parsed.dags if d.dag_id == "fixture_two_dags_classic")
    assert classic.fileloc == str(fixture_path("good_two_dags.py"))
    assert classic.relative_fileloc == "good_two_dags.py"
    assert [t.task_id for t in classic.tasks] == ["only"]
    taskflow = next(d for d in parsed.dags if d.dag_id == "fixture_two_dags_taskflow")
    assert taskflow.get_task("consume").upstream == ["produce"]


def test_syntax_error_names_its_line() -> None:
    message, lineno = _only_error(_parse("broken_syntax_error.py"))

    assert "SyntaxError" in message
    assert lineno == marked_line("broken_syntax_error.py")


def test_missing_import_names_the_module_and_line() -> None:
    message, lineno = _only_error(_parse("broken_missing_import.py"))

    assert "tradewind_fixture_module_that_does_not_exist" in message
    assert lineno == marked_line("broken_missing_import.py")


def test_cycle_is_an_import_error_at_the_dag() -> None:
    message, lineno = _only_error(_parse("broken_cycle.py"))

    assert "cycle" in message.lower()
    assert "fixture_cycle" in message
    assert lineno == marked_line("broken_cycle.py")


def test_duplicate_task_id_names_the_task_and_line() -> None:
    message, lineno = _only_error(_parse("broken_duplicate_task_id.py"))

    assert "'same'" in message
    assert lineno == marked_line("broken_duplicate_task_id.py")


def test_sys_exit_is_reported_with_its_line() -> None:
    message, lineno = _only_error(_parse("broken_sys_exit.py"))

    assert message == "SystemExit: 3"
    assert lineno == marked_line("broken_sys_exit.py")


def test_os_exit_is_reported_with_the_exit_code() -> None:
    message, _lineno = _only_error(_parse("broken_os_exit.py"))

    assert "exited with code 4" in message
    assert "os._exit" in message


def test_segfault_is_reported_with_the_signal_and_line() -> None:
    parsed = _parse("broken_segfault.py")
    message, lineno = _only_error(parsed)

    assert "SIGSEGV" in message
    assert lineno == marked_line("broken_segfault.py")
    assert "broken_segfault.py" in parsed.errors[0].stacktrace


def test_slow_import_is_killed_at_the_timeout() -> None:
    started = time.monotonic()
    message, lineno = _only_error(_parse("broken_slow_import.py", timeout=1.0))

    assert message == "parsing timed out after 1 s"
    assert lineno is None
    assert time.monotonic() - started < 10


def test_output_of_user_code_does_not_corrupt_the_result() -> None:
    parsed = _parse("good_noisy_output.py")

    assert parsed.errors == []
    assert [d.dag_id for d in parsed.dags] == ["fixture_noisy_output"]


def test_timeout_also_kills_processes_the_file_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    dag_file = tmp_path / "spawner.py"
    dag_file.write_text(
        "import subprocess, time\n"
        "from tradewind import DAG\n"
        "proc = subprocess.Popen(['sleep', '600'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(proc.pid))\n"
        "time.sleep(600)\n"
    )

    parsed = parse_file(_ref(dag_file, tmp_path), timeout=1.0)

    assert parsed.errors[0].message == "parsing timed out after 1 s"
    grandchild = int(pid_file.read_text())
    wait_for(lambda: not _alive(grandchild), what=f"grandchild {grandchild} to be gone", timeout=10)


def _alive(pid: int) -> bool:
    # A killed grandchild is re-parented and reaped by init; until then it is a zombie, which counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_many_files_in_parallel_come_back_in_order() -> None:
    names = [
        "good_bash.py",
        "broken_sys_exit.py",
        "good_two_dags.py",
        "broken_os_exit.py",
        "broken_syntax_error.py",
        "good_noisy_output.py",
        "paused_false.py",
    ]
    refs = [_ref(fixture_path(n)) for n in names]

    results = list(parse_files(refs, timeout=TIMEOUT, processes=3))

    assert [r.ref for r in results] == refs
    assert [bool(r.errors) for r in results] == [False, True, False, True, True, False, False]


def test_one_slow_file_does_not_hold_up_the_parallel_others() -> None:
    names = ["broken_slow_import.py", "good_bash.py", "good_two_dags.py", "paused_false.py"]
    started = time.monotonic()

    results = list(parse_files([_ref(fixture_path(n)) for n in names], timeout=2.0, processes=2))

    assert results[0].errors[0].message == "parsing timed out after 2 s"
    assert all(not r.errors for r in results[1:])
    assert time.monotonic() - started < 10


def test_stop_event_ends_parsing_promptly() -> None:
    stop = threading.Event()
    results = parse_files([_ref(fixture_path("broken_slow_import.py"))], timeout=600, processes=1, stop=stop)
    timer = threading.Timer(0.3, stop.set)
    timer.start()
    started = time.monotonic()
    try:
        assert list(results) == []
    finally:
        timer.cancel()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("name", ["good_bash.py", "broken_syntax_error.py"])
def test_parent_process_is_unharmed(name: str) -> None:
    before = (os.getpid(), os.getcwd())
    _parse(name)
    assert (os.getpid(), os.getcwd()) == before
