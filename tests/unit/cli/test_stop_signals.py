"""A service asked to stop by many signals at once (a service manager's SIGTERM, the parent-death signal, a
Ctrl-C, close together) stops, and does not hang in its own signal handler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

CHILD = """
import threading
from tradewind.cli.stop_signals import install_stop_signals

stop = threading.Event()
install_stop_signals(stop)
print("ready", flush=True)
print("stopped" if stop.wait(60) else "not stopped", flush=True)
"""


def test_a_burst_of_stop_signals_stops_the_service_once() -> None:
    # With the event set inside the handler, a signal arriving while a first handler held the event's lock
    # ran the handler again in the same thread, which then waited for that lock for ever (4 runs in 5 here).
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    burst_until = time.monotonic() + 0.5
    while time.monotonic() < burst_until:
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            break
    try:
        code = child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.stdout.read().strip() == "stopped"  # the handler set the event: the service stopped
    # Signals still coming while the interpreter exits (its handlers back to the defaults) may end it so.
    assert code in (0, -signal.SIGTERM)
