"""The TaskRuntime on the metadata database: variables, XComs, branch skips, sensors' and cross-DAG reads,
the task and asset state stores. The execution API serves it to runners; `dags test` uses it in process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tradewind.core.clock import utcnow
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.core.states import TaskInstanceState, ti_state_or_none
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.runtime import XCOM_ABSENT, DagRunExists, RescheduleHistory, TriggeredRun
from tradewind.secrets.chain import SecretsChain
from tradewind.secrets.metastore import MetastoreBackend
from tradewind.store import (
    asset_queue,
    asset_state,
    assets,
    dag_runs,
    external_runs,
    task_instances,
    task_reschedules,
    variables,
    xcom,
)
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher
from tradewind.store.scheduling import test_child_trigger
from tradewind.store.task_state import (
    TaskScope,
    clear_task_state,
    delete_task_state,
    get_task_state,
    set_task_state,
)

#: A task may skip only tasks that have not started: never one that is queued, running or finished.
SKIPPABLE_STATES: frozenset[TaskInstanceState | None] = frozenset({None, TaskInstanceState.SCHEDULED})


class DbRuntime:
    """Implements ``tradewind.sdk.runtime.TaskRuntime``; each call is one short transaction."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN,
        secrets: SecretsChain | None = None,
        caller: TaskInstanceKey | None = None,
    ) -> None:
        self.factory = factory
        #: The try whose task makes these calls, where one does (a run it triggers inherits a test's scope).
        self.caller = caller
        #: ``[scheduler] allowed_run_id_pattern``: what a run id TriggerDagRunOperator is given must match.
        self.allowed_run_id_pattern = allowed_run_id_pattern
        #: Where connections and variables are read (``secrets_chain(settings, factory)``); without one,
        #: only the database, with no Fernet key (an encrypted connection field then cannot be read).
        self.secrets = secrets or SecretsChain([MetastoreBackend(factory, FieldCipher(None))])

    # -- variables ----------------------------------------------------------------------------------
    def get_variable(self, key: str) -> str | None:
        """From the secrets backends in order, the database last."""
        return self.secrets.get_variable(key)

    # -- connections -------------------------------------------------------------------------------
    def get_connection(self, conn_id: str) -> dict[str, Any] | None:
        connection = self.secrets.get_connection(conn_id)
        return None if connection is None else connection.to_dict(validate=False)

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
                    key=TaskInstanceKey.of(ti),
                    expected=ti_state_or_none(ti.state),
                    target=TaskInstanceState.SKIPPED,
                    values={"start_date": now, "end_date": now, "duration": 0.0},
                )

    # -- the task state store -----------------------------------------------------------------------
    def get_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> Any:
        with transaction(self.factory) as session:
            scope = TaskScope(dag_id, run_id, task_id, map_index)
            return get_task_state(session=session, scope=scope, key=key)

    def set_task_state(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        key: str,
        value: Any,
        expires_at: datetime | None,
    ) -> None:
        scope = TaskScope(dag_id, run_id, task_id, map_index)
        with transaction(self.factory) as session:
            set_task_state(session=session, scope=scope, key=key, value=value, expires_at=expires_at)

    def delete_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> None:
        with transaction(self.factory) as session:
            scope = TaskScope(dag_id, run_id, task_id, map_index)
            delete_task_state(session=session, scope=scope, key=key)

    def clear_task_state(self, *, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        with transaction(self.factory) as session:
            clear_task_state(session=session, scope=TaskScope(dag_id, run_id, task_id, map_index))

    # -- sensors and cross-DAG operators ------------------------------------------------------------
    def reschedule_history(
        self, *, dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
    ) -> RescheduleHistory:
        key = TaskInstanceKey(dag_id, run_id, task_id, map_index)
        with transaction(self.factory) as session:
            count, first = task_reschedules.reschedule_summary(
                session=session, key=key, try_number=try_number
            )
        return RescheduleHistory(count=count, first_start=first)

    def dag_task_ids(self, *, dag_id: str) -> dict[str, str | None] | None:
        with transaction(self.factory) as session:
            return external_runs.dag_task_groups(session=session, dag_id=dag_id)

    def dag_run_states(self, *, dag_id: str, logical_dates: Sequence[datetime]) -> list[str]:
        with transaction(self.factory) as session:
            return external_runs.run_states_at(session=session, dag_id=dag_id, logical_dates=logical_dates)

    def task_instance_states(
        self, *, dag_id: str, logical_dates: Sequence[datetime], task_ids: Sequence[str]
    ) -> list[str]:
        with transaction(self.factory) as session:
            return external_runs.task_states_at(
                session=session, dag_id=dag_id, logical_dates=logical_dates, task_ids=task_ids
            )

    def trigger_dag_run(
        self,
        *,
        dag_id: str,
        run_id: str | None,
        logical_date: datetime | None,
        conf: dict[str, Any],
        reset_dag_run: bool,
        triggered_by: str,
    ) -> TriggeredRun:
        with transaction(self.factory) as session:
            if self.caller is not None:
                # A run that a `dags test` run's task triggers belongs to that test: its process runs it, no
                # service does (and so on down the chain of triggers).
                triggered_by = test_child_trigger(session=session, caller=self.caller) or triggered_by
            run = external_runs.trigger_or_reset(
                session=session, dag_id=dag_id, run_id=run_id, logical_date=logical_date, conf=conf,
                reset_dag_run=reset_dag_run, triggered_by=triggered_by, now=utcnow(),
                allowed_run_id_pattern=self.allowed_run_id_pattern,
            )  # fmt: skip
            if run is None:
                raise DagRunExists(dag_id, run_id or "")
            return TriggeredRun(dag_id=run.dag_id, run_id=run.run_id, logical_date=run.logical_date)

    def dag_run_state(self, *, dag_id: str, run_id: str) -> str | None:
        with transaction(self.factory) as session:
            try:
                return dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id).state
            except NotFoundError:
                return None

    # -- assets ---------------------------------------------------------------------------------------
    def asset_events(
        self, *, name: str | None = None, uri: str | None = None, alias: str | None = None
    ) -> list[dict[str, Any]]:
        with transaction(self.factory) as session:
            return assets.events_for(session=session, name=name, uri=uri, alias=alias)

    def consumed_asset_events(self, *, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        with transaction(self.factory) as session:
            try:
                run = dag_runs.get_dag_run(session=session, dag_id=dag_id, run_id=run_id)
            except NotFoundError:
                return []
            return asset_queue.consumed_events(session=session, dag_run_ids=[run.id])[run.id]

    def get_asset_state(self, *, name: str | None, uri: str | None, key: str) -> Any:
        with transaction(self.factory) as session:
            return asset_state.get_asset_state(session=session, name=name, uri=uri, key=key)

    def set_asset_state(self, *, name: str | None, uri: str | None, key: str, value: Any) -> None:
        with transaction(self.factory) as session:
            asset_state.set_asset_state(
                session=session, name=name, uri=uri, key=key, value=value, now=utcnow()
            )

    def delete_asset_state(self, *, name: str | None, uri: str | None, key: str) -> None:
        with transaction(self.factory) as session:
            asset_state.delete_asset_state(session=session, name=name, uri=uri, key=key)

    def clear_asset_state(self, *, name: str | None, uri: str | None) -> None:
        with transaction(self.factory) as session:
            asset_state.delete_asset_state(session=session, name=name, uri=uri)
