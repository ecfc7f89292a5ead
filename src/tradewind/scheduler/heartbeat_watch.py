"""How long each running try's heartbeat has gone unchanged, measured on this scheduler's monotonic clock.

A heartbeat is a wall-clock time written by another process (the execution API, a runner on another
machine). Comparing it with this machine's wall clock turns any clock step into a heartbeat age: an NTP step
forward of a few minutes would make every running try look dead at once, and a step back would hide dead
ones for as long. So the zombie check never subtracts wall-clock times: it watches the stored value, and a
try is stale once that value has not changed for ``threshold`` seconds of this process's monotonic clock
(ADR 0015). The value's only use is to tell one beat from the next.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Beat:
    """What the watch is told about one running try: who it is and its last stored heartbeat value."""

    key: Hashable
    value: object


@dataclass(slots=True)
class _Seen:
    value: object
    since: float


class HeartbeatWatch:
    """Remembers, per running try, the last heartbeat value seen and the monotonic time it was first seen.

    A try seen for the first time (this scheduler just started, or the try just began running) starts its
    count at that moment: a scheduler that restarts finds a dead runner ``threshold`` seconds after it
    starts, never earlier, which is the price of not trusting wall-clock ages.
    """

    def __init__(self, threshold: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self._monotonic = monotonic
        self._seen: dict[Hashable, _Seen] = {}

    def stale(self, beats: Iterable[Beat]) -> list[Beat]:
        """Record ``beats`` (every try running now; others are forgotten) and return those whose value has
        not changed for ``threshold`` seconds."""
        now = self._monotonic()
        current: dict[Hashable, _Seen] = {}
        stale: list[Beat] = []
        for beat in beats:
            seen = self._seen.get(beat.key)
            if seen is None or seen.value != beat.value:
                seen = _Seen(beat.value, now)
            current[beat.key] = seen
            if now - seen.since >= self.threshold:
                stale.append(beat)
        self._seen = current
        return stale

    def unchanged_for(self, key: Hashable) -> float | None:
        """Seconds since ``key``'s value last changed (None: not being watched)."""
        seen = self._seen.get(key)
        return None if seen is None else self._monotonic() - seen.since

    def forget(self, key: Hashable) -> None:
        self._seen.pop(key, None)
