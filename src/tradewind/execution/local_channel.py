"""A TryChannel in process, on the metadata database: for `dags test` and for an operator's `tasks run`
given no task token (both hold the database credentials anyway). Tries started by an executor never use it:
they talk to the execution API with a token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.execution.db_runtime import DbRuntime
from tradewind.execution.models import ClaimedTry, DeferReport, Refusal, RescheduleReport, TryEnded, TryReport
from tradewind.execution.try_ending import TakenAway
from tradewind.execution.try_state import TryState, current_try_number
from tradewind.sdk.legacy_context import PreviousSuccess
from tradewind.secrets.chain import SecretsChain
from tradewind.store.transient_errors import REQUEST_WINDOW


class LocalChannel:
    def __init__(
        self,
        factory: sessionmaker[Session],
        key: TaskInstanceKey,
        try_number: int,
        *,
        engine: Engine | None = None,
        allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN,
        secrets: SecretsChain | None = None,
        outage_window: float = REQUEST_WINDOW,
    ) -> None:
        """``try_number`` 0: the try the task instance is at. ``engine``, if given, is disposed by ``close``.
        ``outage_window``: how long a claim or an end waits out an unusable database."""
        self.engine = engine
        self.factory = factory
        self.allowed_run_id_pattern = allowed_run_id_pattern
        self.secrets = secrets
        number = try_number if try_number > 0 else current_try_number(self.factory, key)
        self.state = TryState(self.factory, key, number, window=outage_window)

    def claim(self, *, hostname: str, pid: int) -> ClaimedTry | Refusal:
        return self.state.claim(now=utcnow(), hostname=hostname, pid=pid)

    def heartbeat(self) -> str | None:
        return self.state.heartbeat(now=utcnow())

    def finish(self, report: TryReport) -> TryEnded | str:
        end = self.state.finish(report, now=utcnow())
        return end.state if isinstance(end, TakenAway) else end

    def reschedule(self, report: RescheduleReport) -> str | None:
        return self.state.reschedule(report, now=utcnow())

    def defer(self, report: DeferReport) -> str | None:
        return self.state.defer(report, now=utcnow())

    def previous_success(self, *, logical_date: datetime) -> PreviousSuccess | None:
        return self.state.previous_success(logical_date=logical_date)

    def runtime(self) -> DbRuntime:
        return DbRuntime(
            self.factory,
            allowed_run_id_pattern=self.allowed_run_id_pattern,
            secrets=self.secrets,
            caller=self.state.key,
        )

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
