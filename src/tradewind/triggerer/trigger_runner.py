"""The triggerer's child process: every trigger on one asyncio loop, user code, and no database.

Started by ``triggerer.child`` with the task environment (no database URL) and the task settings on stdin;
reads run/cancel lines, answers with event/failed/blocked lines on the pipe named by ``--events-fd``. A
watchdog thread measures the loop's lag and names the trigger that was running while it stalled.
Run as ``python -m tradewind.triggerer.trigger_runner --events-fd N``.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import importlib
import itertools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from tradewind.config.settings_handoff import settings_from_payload
from tradewind.core.json_values import from_tagged_json, to_tagged_json
from tradewind.observability.service_logs import configure_service_logging
from tradewind.plugins.user_code import prepare_for_user_code
from tradewind.sdk.errors import TradewindError
from tradewind.sdk.runtime import TaskRuntime, set_runtime
from tradewind.sdk.triggers.base import BaseTrigger
from tradewind.triggerer import protocol

log = logging.getLogger("tradewind.triggerer.child")
#: How often the loop notes that it runs; the watchdog compares against it.
BEAT = 0.05
#: How long trigger code waits for the service to answer a read.
CALL_TIMEOUT = 60.0

Send = Callable[[dict[str, Any]], None]


def build_trigger(classpath: str, kwargs: dict[str, Any]) -> BaseTrigger:
    """The trigger ``serialize`` described, built again from its class path and decoded arguments."""
    module_name, _, class_name = classpath.rpartition(".")
    if not module_name:
        raise ImportError(f"trigger class path {classpath!r} names no module")
    trigger_type = getattr(importlib.import_module(module_name), class_name)
    trigger = trigger_type(**from_tagged_json(kwargs))
    if not isinstance(trigger, BaseTrigger):
        raise TypeError(f"{classpath} is not a BaseTrigger")
    return trigger


class PipeRuntime:
    """What trigger code reads (connections, variables, other DAGs' states), asked of the service over the
    pipe: the child has no database. Blocking calls, so trigger code makes them from a thread
    (``await asyncio.to_thread(BaseHook.get_connection, "my_conn")``), never on the loop itself."""

    def __init__(self, send: Send, loop_thread: int) -> None:
        self._send = send
        self._loop_thread = loop_thread
        self._ids = itertools.count(1)
        self._waiting: dict[int, concurrent.futures.Future[Any]] = {}
        self._lock = threading.Lock()

    def call(self, method: str, **kwargs: Any) -> Any:
        if threading.get_ident() == self._loop_thread:
            raise TradewindError(
                f"{method} blocks: call it from a thread in a trigger (await asyncio.to_thread(...))"
            )
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            rid = next(self._ids)
            self._waiting[rid] = future
        try:
            self._send({"op": protocol.CALL, "rid": rid, "method": method, "kwargs": to_tagged_json(kwargs)})
            return future.result(timeout=CALL_TIMEOUT)
        finally:
            with self._lock:
                self._waiting.pop(rid, None)

    def answer(self, message: dict[str, Any]) -> None:
        with self._lock:
            future = self._waiting.get(int(message["rid"]))
        if future is None:
            return
        if message.get("error") is not None:
            future.set_exception(TradewindError(str(message["error"])))
        else:
            future.set_result(from_tagged_json(message.get("value")))

    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self.call("get_connection", conn_id=conn_id)
        return value

    def get_variable(self, key: str) -> str | None:
        value: str | None = self.call("get_variable", key=key)
        return value

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        return list(self.call("dag_run_states", dag_id=dag_id, logical_dates=list(logical_dates)))

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        return list(
            self.call(
                "task_instance_states",
                dag_id=dag_id,
                logical_dates=list(logical_dates),
                task_ids=list(task_ids),
            )
        )

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        value: dict[str, str | None] | None = self.call("dag_task_ids", dag_id=dag_id)
        return value

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        value: str | None = self.call("dag_run_state", dag_id=dag_id, run_id=run_id)
        return value

    def __getattr__(self, name: str) -> Any:
        raise TradewindError(f"{name} is not available to triggers (they only read through the triggerer)")


class TriggerRunner:
    """Runs triggers as asyncio tasks; each reports its first event (or its failure) once and stops."""

    def __init__(self, send: Send, runtime: PipeRuntime | None = None) -> None:
        self.send = send
        self.runtime = runtime
        self.tasks: dict[int, asyncio.Task[None]] = {}
        #: Called when a trigger starts (the watchdog watches from then on).
        self.on_start: Callable[[], None] = _nothing

    def handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == protocol.REPLY and self.runtime is not None:
            self.runtime.answer(message)
        elif op == protocol.RUN:
            self.start(int(message["id"]), str(message["classpath"]), dict(message.get("kwargs") or {}))
        elif op == protocol.CANCEL:
            task = self.tasks.pop(int(message["id"]), None)
            if task is not None:
                task.cancel()
        else:
            log.warning("unknown message %r", op)

    def start(self, trigger_id: int, classpath: str, kwargs: dict[str, Any]) -> None:
        if trigger_id in self.tasks:
            return
        try:
            trigger = build_trigger(classpath, kwargs)
        except Exception:
            log.exception("trigger %d (%s) cannot be built", trigger_id, classpath)
            self._failed(trigger_id, traceback.format_exc().splitlines(keepends=True))
            return
        trigger.trigger_id = trigger_id
        name = f"trigger {trigger_id} ({classpath})"
        self.tasks[trigger_id] = asyncio.create_task(self._run(trigger_id, trigger), name=name)
        self.on_start()
        log.info("started %s", name)

    async def _run(self, trigger_id: int, trigger: BaseTrigger) -> None:
        events = trigger.run()
        try:
            try:
                event = await anext(events)
            except StopAsyncIteration:
                self._failed(trigger_id, ["Trigger exited without sending an event.\n"])
                return
            try:
                payload = to_tagged_json(event.payload)
            except TypeError as exc:
                self._failed(trigger_id, [f"the trigger's event cannot be stored: {exc}\n"])
                return
            log.info("trigger %d fired: %r", trigger_id, event)
            self.tasks.pop(trigger_id, None)
            self.send({"op": protocol.EVENT, "id": trigger_id, "payload": payload})
        except asyncio.CancelledError:
            log.info("trigger %d cancelled", trigger_id)
            raise
        except Exception:
            log.exception("trigger %d failed", trigger_id)
            self._failed(trigger_id, traceback.format_exc().splitlines(keepends=True))
        finally:
            await _close(trigger_id, trigger, events)

    def _failed(self, trigger_id: int, lines: list[str]) -> None:
        self.tasks.pop(trigger_id, None)
        self.send({"op": protocol.FAILED, "id": trigger_id, "traceback": lines})


def _nothing() -> None:
    pass


async def _close(trigger_id: int, trigger: BaseTrigger, events: Any) -> None:
    try:
        await events.aclose()
    except Exception:
        log.exception("trigger %d: closing its run() failed", trigger_id)
    try:
        await trigger.cleanup()
    except Exception:
        log.exception("trigger %d: cleanup() failed", trigger_id)


class Watchdog:
    """A thread that notices the loop stalling longer than ``threshold`` seconds and reports the trigger
    whose step was running then (a trigger calling time.sleep or blocking I/O stalls every other one).

    It only watches while ``armed()`` (triggers are running): an idle child neither beats nor wakes."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        send: Send,
        threshold: float,
        *,
        armed: Callable[[], bool] = lambda: True,
    ) -> None:
        self.loop = loop
        self.send = send
        self.threshold = threshold
        self.armed = armed
        self.last_beat = time.monotonic()
        self._stop = threading.Event()
        #: Set while the loop beats (triggers run); the watching thread sleeps on it otherwise.
        self._watching = threading.Event()
        self._rearmed = asyncio.Event()
        self._thread = threading.Thread(target=self._watch, name="triggerer-watchdog", daemon=True)

    def arm(self) -> None:
        """A trigger starts (called on the loop): watch from now on, before its first step runs."""
        self.last_beat = time.monotonic()
        self._watching.set()
        self._rearmed.set()

    async def beat(self) -> None:
        while True:
            if not self.armed():
                self._watching.clear()
                self._rearmed.clear()
                await self._rearmed.wait()
            self.last_beat = time.monotonic()
            self._watching.set()
            await asyncio.sleep(BEAT)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._watching.set()

    def _watch(self) -> None:
        culprit: str | None = None
        worst = 0.0
        while not self._stop.wait(BEAT / 2):
            watching = self._watching.is_set()
            lag = time.monotonic() - self.last_beat - BEAT
            if watching and lag > self.threshold:
                worst = max(worst, lag)
                if culprit is None:
                    task = asyncio.current_task(self.loop)
                    culprit = task.get_name() if task is not None else "unknown"
                    self.send(
                        {"op": protocol.BLOCKED, "name": culprit, "ms": int(lag * 1000), "ongoing": True}
                    )
                continue
            if culprit is not None:
                self.send(
                    {"op": protocol.BLOCKED, "name": culprit, "ms": int(worst * 1000), "ongoing": False}
                )
                culprit, worst = None, 0.0
            if not watching:
                self._watching.wait()


class PipeWriter:
    """Whole lines onto the events pipe, from the loop and the watchdog thread alike."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        data = protocol.encode(message)
        with self.lock:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]


async def serve(events_fd: int) -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader(limit=protocol.MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    settings = settings_from_payload((await commands.readline()).decode())
    configure_service_logging(settings.logging.level, settings.logging.log_format)
    prepare_for_user_code(settings)
    # Trigger classes may live beside the DAGs, as in Airflow (plugins are on the path already).
    if str(settings.dags_folder) not in sys.path:
        sys.path.append(str(Path(settings.dags_folder)))
    send = PipeWriter(events_fd)
    runtime = PipeRuntime(send, threading.get_ident())
    set_runtime(cast(TaskRuntime, runtime))  # copied into every trigger's task and its threads
    runner = TriggerRunner(send, runtime)
    watchdog = Watchdog(
        loop, send, settings.triggerer.blocked_main_thread_warning_threshold, armed=lambda: bool(runner.tasks)
    )
    runner.on_start = watchdog.arm
    beat = asyncio.create_task(watchdog.beat(), name="triggerer-heartbeat")
    watchdog.start()
    log.info("trigger child ready (pid %d)", os.getpid())
    try:
        while line := await commands.readline():
            try:
                runner.handle(protocol.decode(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("bad message from the triggerer: %s", exc)
    finally:  # the service closed the pipe: it is stopping (or gone)
        watchdog.stop()
        beat.cancel()
        for task in list(runner.tasks.values()):
            task.cancel()
        await asyncio.gather(*runner.tasks.values(), return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tradewind-trigger-runner")
    parser.add_argument("--events-fd", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.events_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
