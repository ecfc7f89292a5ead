"""Waiting on a deferred task's trigger in this process, for `tradewind tasks test` (no triggerer, nothing
recorded): run the trigger until its first event (or its failure, or the deferral's timeout) and say how the
task resumes, as the triggerer and the scheduler would."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from tradewind.core.json_values import from_tagged_json, to_tagged_json
from tradewind.runner.execution import Deferral, Resume
from tradewind.sdk.triggers.base import FAIL_METHOD, FAILURE_ERROR, TIMEOUT_ERROR


async def _first_event(trigger: Any) -> Any:
    events = trigger.run()
    try:
        event = await anext(events)
    finally:
        await events.aclose()
        await trigger.cleanup()
    return event.payload


def wait_inline(deferral: Deferral, *, log: logging.Logger) -> Resume:
    """The Resume the task goes on with once ``deferral``'s trigger fired, failed or timed out."""
    kwargs = dict(from_tagged_json(deferral.next_kwargs) or {}) if deferral.next_kwargs else {}
    log.info("Waiting here on %s (tasks test runs the trigger itself)", deferral.classpath)
    try:
        payload = asyncio.run(asyncio.wait_for(_first_event(deferral.trigger), deferral.timeout_seconds))
    except TimeoutError:
        return Resume(FAIL_METHOD, {"error": TIMEOUT_ERROR})
    except (Exception, StopAsyncIteration) as exc:
        lines = traceback.format_exception(exc)
        return Resume(FAIL_METHOD, {"error": FAILURE_ERROR, "traceback": lines})
    # Through JSON and back, as the event reaches a resumed try.
    kwargs["event"] = from_tagged_json(to_tagged_json(payload))
    return Resume(deferral.next_method, kwargs)
