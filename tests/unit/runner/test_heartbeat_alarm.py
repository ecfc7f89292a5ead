"""A try's heartbeat thread is started by its log capture's reader once a heartbeat is due: a try shorter than
the interval starts no thread for it, a longer one beats as before, even while its output never pauses."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from tradewind.runner.alarm import Alarm
from tradewind.runner.supervisor import Supervisor

log = logging.getLogger("test.heartbeat_alarm")


def test_a_supervisor_with_an_alarm_starts_beating_when_it_rings() -> None:
    beats = threading.Semaphore(0)

    def heartbeat() -> str | None:
        beats.release()
        return None

    alarm = Alarm(3600)
    with Supervisor(heartbeat=heartbeat, interval=0.02, log=log, alarm=alarm):
        assert not any(t.name == "heartbeat" for t in threading.enumerate())
        alarm.ring()
        for _ in range(3):
            assert beats.acquire(timeout=5)


def test_a_supervisor_stopped_before_its_alarm_rings_never_beats() -> None:
    alarm = Alarm(3600)
    beats: list[int] = []
    with Supervisor(heartbeat=lambda: beats.append(1) and None, interval=0.01, log=log, alarm=alarm):
        pass
    alarm.ring()  # the capture's reader rings it when it ends
    assert not any(t.name == "heartbeat" for t in threading.enumerate())
    assert beats == []


def test_an_action_set_after_the_alarm_rang_runs_at_once() -> None:
    alarm = Alarm(0)
    alarm.ring()
    ran: list[int] = []
    alarm.set(lambda: ran.append(1))
    assert ran == [1]
    assert alarm.remaining() is None


SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    from tradewind.runner.alarm import Alarm
    from tradewind.runner.log_capture import LogCapture

    alarm = Alarm(float(sys.argv[2]))
    rang = threading.Event()
    alarm.set(rang.set)
    capture = LogCapture(Path(sys.argv[1]), alarm=alarm)
    capture.start()
    deadline = time.monotonic() + 60
    while not rang.is_set() and time.monotonic() < deadline:
        print("output that never pauses")  # the reader must ring it all the same
    print("rang" if rang.is_set() else "never rang")
    capture.stop()
    """
)


def test_the_capture_rings_the_alarm_while_output_keeps_coming(tmp_path: Path) -> None:
    log_file = tmp_path / "attempt=1.log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log_file), "0.2"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = log_file.read_text().splitlines()
    assert lines[-1].endswith(" rang")
    assert all(line.endswith(" output that never pauses") for line in lines[:-1])


STOP_SCRIPT = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from tradewind.runner.alarm import Alarm
    from tradewind.runner.log_capture import LogCapture

    alarm = Alarm(3600)
    rang = threading.Event()
    alarm.set(rang.set)
    with LogCapture(Path(sys.argv[1]), alarm=alarm):
        print("a short try")
    print("rang" if rang.is_set() else "never rang")
    """
)


def test_the_capture_rings_the_alarm_when_it_stops(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", STOP_SCRIPT, str(tmp_path / "a.log")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "rang\n"
