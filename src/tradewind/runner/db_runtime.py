"""The TaskRuntime the runner installs: variables, XComs and branch skips on the metadata database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.core.states import TaskInstanceState
from tradewind.runner.secrets_masking import SecretsMasker, is_sensitive_name
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.runtime import XCOM_ABSENT
from tradewind.store import task_instances, variables, xcom
from tradewind.store.engine import transaction

TI = TaskInstanceState
#: A task may skip only tasks that have not started: never one that is queued, running or finished.
SKIPPABLE_STATES: frozenset[TaskInstanceState | None] = frozenset({None, TI.SCHEDULED})


class DbRuntime:
    """Implements ``tradewind.sdk.runtime.TaskRuntime``; each call is one short transaction.

    Values of variables with sensitive names (password, secret, token ...) are given to ``masker`` as they
    are read, so they are masked in the try's log and rendered fields.
    """

    def __init__(self, factory: sessionmaker[Session], *, masker: SecretsMasker | None = None) -> None:
        self.factory = factory
        self.masker = masker

    # -- variables ----------------------------------------------------------------------------------
    def get_variable(self, key: str) -> str | None:
        with transaction(self.factory) as session:
            try:
                value = variables.get_variable(session=session, key=key).val
            except NotFoundError:
                return None
        if self.masker is not None and is_sensitive_name(key):
            self.masker.add(value)
        return value

    def set_variable(self, key: str, value: str, description: str | None = None) -> None:
        with transaction(self.factory) as session:
            variables.set_variable(session=session, key=key, value=value, description=description)

    def delete_variable(self, key: str) -> None:
        with transaction(self.factory) as session:
            variables.delete_variable(session=session, key=key)

    # -- XCom ---------------------------------------------------------------------------------------
    def xcom_push(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str, value: Any
    ) -> None:
        with transaction(self.factory) as session:
            xcom.set_xcom(
                session=session,
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                map_index=map_index,
                key=key,
                value=value,
            )

    def xcom_pull(self, *, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None) -> Any:
        with transaction(self.factory) as session:
            return xcom.get_xcom(
                session=session,
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                key=key,
                map_index=map_index,
                default=XCOM_ABSENT,
            )

    # -- branching ----------------------------------------------------------------------------------
    def skip_tasks(self, *, dag_id: str, run_id: str, task_ids: Sequence[str]) -> None:
        """Move the not-yet-started task instances of these tasks (every map index) to skipped, each with
        compare-and-set so a task instance that started meanwhile is left alone."""
        if not task_ids:
            return
        now = utcnow()
        with transaction(self.factory) as session:
            tis, _ = task_instances.list_task_instances(
                session=session,
                dag_id=dag_id,
                run_id=run_id,
                task_ids=list(task_ids),
                states=SKIPPABLE_STATES,
            )
            for ti in tis:
                task_instances.transition(
                    session=session,
                    key=task_instances.key_of(ti),
                    expected=TI(ti.state) if ti.state else None,
                    target=TI.SKIPPED,
                    values={"start_date": now, "end_date": now, "duration": 0.0},
                )
