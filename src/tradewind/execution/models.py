"""What the runner and the execution API say to each other: small JSON documents, validated both ends.

Importing this module loads pydantic only: the runner's side of the API needs no SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradewind.core.keys import TaskInstanceKey
from tradewind.sdk.retry_policy import RetryAction, RetryDecision


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunInfo(_Message):
    """What the task context needs from the DAG run."""

    dag_id: str
    run_id: str
    run_type: str
    logical_date: datetime
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    start_date: datetime | None
    conf: dict[str, Any] = Field(default_factory=dict)


class ClaimRequest(_Message):
    hostname: str = Field(max_length=1000)
    pid: int = Field(ge=0, le=2**31)


class ClaimedTry(_Message):
    """A try the runner moved from queued to running: from now on it is the runner's to report on."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    max_tries: int
    start_date: datetime
    run: RunInfo
    #: Where the DAG processor found the DAG file (absolute, and relative to its DAG folder).
    fileloc: str
    relative_fileloc: str
    #: The token for everything the running try does next (the claim token is spent).
    token: str = Field(default="", repr=False)
    #: A deferred try resuming: the method to call instead of ``execute`` and its keyword arguments (tagged
    #: JSON, ``core.json_values.from_tagged_json``), the trigger's event under "event".
    next_method: str | None = None
    next_kwargs: dict[str, Any] | None = Field(default=None, repr=False)

    @property
    def key(self) -> TaskInstanceKey:
        return TaskInstanceKey.of(self)


class Refusal(_Message):
    """Why the runner must not run the try (someone else has it, or it was cleared or re-queued)."""

    reason: str


class ClaimAnswer(_Message):
    """Either the claimed try or why it was refused."""

    claimed: ClaimedTry | None = None
    refusal: Refusal | None = None


class HeartbeatAnswer(_Message):
    """``taken_away`` names the state someone else gave the try (the runner must stop); otherwise the try is
    still the runner's, and ``token`` is a renewed token when the current one nears its end."""

    token: str | None = Field(default=None, repr=False)
    taken_away: str | None = None


Outcome = Literal["success", "skipped", "failed", "failed_no_retry"]


class XComValue(_Message):
    """One XCom a try returned (``return_value``, or a key of ``multiple_outputs``), as JSON data."""

    key: str = Field(min_length=1, max_length=512)
    value: Any = None


class TryReport(_Message):
    """What happened in a try, as the runner saw it. The server decides the state it ends in."""

    outcome: Outcome
    reason: str | None = Field(default=None, max_length=100_000)
    #: A retry policy's decision about a failure (None: the task's retry settings decide).
    retry_action: Literal["default", "retry", "fail"] | None = None
    retry_delay_seconds: float | None = Field(default=None, ge=0)
    retry_reason: str | None = Field(default=None, max_length=10_000)
    rendered_fields: dict[str, Any] | None = None
    #: Asset events of a successful try (``tradewind.sdk.asset_events.produced_events``).
    asset_events: list[dict[str, Any]] = Field(default_factory=list)
    #: The XComs of what the try returned: stored with its end, in the same transaction, unless the try was
    #: taken away meanwhile (one request fewer than pushing them first, and never a result of a cleared try).
    xcoms: list[XComValue] = Field(default_factory=list)

    def decision(self) -> RetryDecision | None:
        if self.retry_action is None:
            return None
        delay = timedelta(seconds=self.retry_delay_seconds) if self.retry_delay_seconds is not None else None
        return RetryDecision(RetryAction(self.retry_action), retry_delay=delay, reason=self.retry_reason)


class TryEnded(_Message):
    """The state the try ended in, and a token its callbacks may use for reads."""

    state: str
    next_retry_at: datetime | None = None
    state_reason: str | None = None
    token: str | None = Field(default=None, repr=False)


class FinishAnswer(_Message):
    """Either how the try ended or the state someone else gave it first (then left alone)."""

    ended: TryEnded | None = None
    taken_away: str | None = None


class RescheduleReport(_Message):
    reschedule_date: datetime
    rendered_fields: dict[str, Any] | None = None


class RescheduleAnswer(_Message):
    taken_away: str | None = None


class DeferReport(_Message):
    """A try that deferred: the trigger it waits on (class path and tagged-JSON keyword arguments), the method
    it resumes in with its keyword arguments, and how long it may wait (None: no limit)."""

    classpath: str = Field(min_length=1, max_length=1000)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    next_method: str = Field(min_length=1, max_length=1000)
    next_kwargs: dict[str, Any] | None = None
    timeout_seconds: float | None = Field(default=None, ge=0)
    rendered_fields: dict[str, Any] | None = None


class DeferAnswer(_Message):
    taken_away: str | None = None
