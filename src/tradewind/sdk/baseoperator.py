"""BaseOperator: one task of a DAG, its settings (retries, pool, trigger rule ...) and templated fields."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from tradewind.sdk import templating
from tradewind.sdk.abstractoperator import WEIGHT_RULES, AbstractOperator
from tradewind.sdk.assets import BaseAsset, outlet_list
from tradewind.sdk.definition_context import caller_site, current_dag, current_group, is_detached
from tradewind.sdk.errors import DagDefinitionError, TaskDeferralError, TaskDeferralTimeout, TaskDeferred
from tradewind.sdk.mapped import OperatorPartial
from tradewind.sdk.naming import validate_id
from tradewind.sdk.operator_defaults import accepted_parameters, apply_default_args
from tradewind.sdk.resolvable import iter_upstream_references
from tradewind.sdk.retry_policy import RetryPolicy
from tradewind.sdk.trigger_rule import TriggerRule
from tradewind.sdk.triggers.base import FAIL_METHOD, TIMEOUT_ERROR

if TYPE_CHECKING:
    from jinja2 import Environment

    from tradewind.sdk.dag import DAG
    from tradewind.sdk.taskgroup import TaskGroup
    from tradewind.sdk.triggers.base import BaseTrigger

DEFAULT_OWNER = "tradewind"
DEFAULT_POOL = "default_pool"
DEFAULT_QUEUE = "default"
DEFAULT_RETRY_DELAY = timedelta(seconds=300)


def as_timedelta(value: object, field: str, where: str) -> timedelta | None:
    """Durations may be written as timedelta or as seconds."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise DagDefinitionError(f"{where}: {field} must be a timedelta or a number of seconds, got {value!r}")


def _check_retry_policy(policy: object, where: str, dag: DAG | None) -> RetryPolicy | None:
    """A RetryPolicy, or any object with Airflow's ``evaluate(exception, try_number, max_tries, context)``."""
    if policy is None or isinstance(policy, RetryPolicy) or callable(getattr(policy, "evaluate", None)):
        return policy  # type: ignore[return-value]
    raise DagDefinitionError(
        f"{where}: retry_policy must be a RetryPolicy (e.g. ExceptionRetryPolicy), got {policy!r}",
        dag_id=dag.dag_id if dag is not None else None,
    )


class BaseOperator(AbstractOperator):
    """Subclass it and implement ``execute(context)``; its return value is pushed to XCom."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = apply_default_args(cls.__dict__["__init__"])  # type: ignore[method-assign]

    @apply_default_args
    def __init__(
        self,
        *,
        task_id: str,
        owner: str = DEFAULT_OWNER,
        retries: int | None = None,
        retry_delay: timedelta | float = DEFAULT_RETRY_DELAY,
        retry_exponential_backoff: bool = False,
        max_retry_delay: timedelta | float | None = None,
        retry_policy: RetryPolicy | None = None,
        execution_timeout: timedelta | float | None = None,
        trigger_rule: str = TriggerRule.ALL_SUCCESS,
        pool: str | None = None,
        pool_slots: int = 1,
        priority_weight: int = 1,
        weight_rule: str = "downstream",
        queue: str = DEFAULT_QUEUE,
        depends_on_past: bool = False,
        executor_config: dict[str, Any] | None = None,
        do_xcom_push: bool = True,
        multiple_outputs: bool = False,
        on_failure_callback: Any = None,
        on_success_callback: Any = None,
        on_retry_callback: Any = None,
        doc_md: str | None = None,
        params: Mapping[str, Any] | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        email: str | list[str] | None = None,
        email_on_failure: bool = True,
        email_on_retry: bool = True,
        dag: DAG | None = None,
        task_group: TaskGroup | None = None,
        default_args: Mapping[str, Any] | None = None,
        task_display_name: str | None = None,
        inlets: Any = None,
        outlets: Any = None,
        pre_execute: Callable[..., Any] | None = None,
        post_execute: Callable[..., Any] | None = None,
    ) -> None:
        detached = is_detached()
        if not detached:
            task_group = task_group or current_group()
            dag = dag or (task_group.dag if task_group is not None else None) or current_dag()
        if task_group is None and dag is not None:
            task_group = dag.task_group
        label = validate_id(task_id, "task_id")
        full_id = task_group.child_id(label) if task_group is not None else label
        self._init_node(full_id, task_group, caller_site())
        where = f"task {full_id!r}" + (f" in DAG {dag.dag_id!r}" if dag is not None else "")

        self._task_display_name = task_display_name
        self.owner = owner
        #: None: not set by the author; the deployment's core.default_task_retries applies.
        self.retries: int | None = None if retries is None else int(retries)
        delay = as_timedelta(retry_delay, "retry_delay", where)
        self.retry_delay = DEFAULT_RETRY_DELAY if delay is None else delay
        self.retry_exponential_backoff = bool(retry_exponential_backoff)
        self.max_retry_delay = as_timedelta(max_retry_delay, "max_retry_delay", where)
        #: Looks at a failed try's exception (in the runner) to retry, fail now, or leave it to ``retries``.
        self.retry_policy = _check_retry_policy(retry_policy, where, dag)
        self.execution_timeout = as_timedelta(execution_timeout, "execution_timeout", where)
        self.trigger_rule = self._check_trigger_rule(trigger_rule, where, dag)
        self.pool = pool or DEFAULT_POOL
        self.pool_slots = pool_slots
        self.priority_weight = priority_weight
        self.weight_rule = weight_rule
        self.queue = queue
        self.depends_on_past = depends_on_past
        self.executor_config = dict(executor_config or {})
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        self.on_retry_callback = on_retry_callback
        self.doc_md = doc_md
        self.params: dict[str, Any] = dict(params or {})
        self.start_date = start_date
        self.end_date = end_date
        #: Where email alerts go; as in Airflow, a try that fails or goes up for retry mails them unless
        #: email_on_failure / email_on_retry is false (the runner sends it: runner/email_alerts.py).
        self.email = email
        self.email_on_failure = email_on_failure
        self.email_on_retry = email_on_retry
        #: Assets and aliases the task reads and produces (an event per outlet when a try succeeds).
        self.inlets: list[BaseAsset] = outlet_list(inlets, where)
        self.outlets: list[BaseAsset] = outlet_list(outlets, where)
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute
        self._check_settings(where, dag)
        if dag is not None and not detached:
            dag.add_task(self)

    @staticmethod
    def _check_trigger_rule(rule: object, where: str, dag: DAG | None) -> str:
        if not TriggerRule.is_valid(rule):
            raise DagDefinitionError(
                f"{where}: invalid trigger_rule {rule!r}; expected one of "
                + ", ".join(r.value for r in TriggerRule),
                dag_id=dag.dag_id if dag is not None else None,
            )
        return str(TriggerRule(str(rule)))

    def _check_settings(self, where: str, dag: DAG | None) -> None:
        dag_id = dag.dag_id if dag is not None else None
        if self.weight_rule not in WEIGHT_RULES:
            raise DagDefinitionError(
                f"{where}: invalid weight_rule {self.weight_rule!r}; "
                f"expected one of {', '.join(WEIGHT_RULES)}",
                dag_id=dag_id,
            )
        if not isinstance(self.pool_slots, int) or self.pool_slots < 1:
            raise DagDefinitionError(f"{where}: pool_slots must be an integer >= 1", dag_id=dag_id)
        if self.retries is not None and self.retries < 0:
            raise DagDefinitionError(f"{where}: retries must be >= 0", dag_id=dag_id)
        if not isinstance(self.priority_weight, int):
            raise DagDefinitionError(f"{where}: priority_weight must be an integer", dag_id=dag_id)

    def _after_init(self) -> None:
        """Once the outermost ``__init__`` is done: XComArgs in template fields become upstream edges."""
        if is_detached():
            return
        for field in self.template_fields:
            for upstream, _key in iter_upstream_references(getattr(self, field, None)):
                upstream.set_downstream(self)

    # -- mapping --------------------------------------------------------------------------------------

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Fix the arguments shared by every mapped copy; follow with ``.expand(arg=[...])``."""
        return OperatorPartial(cls, kwargs, site=caller_site())

    @classmethod
    def mapping_prototype(cls, task_id: str, settings: Mapping[str, Any]) -> BaseOperator:
        """A detached BaseOperator holding the normalised task settings of a mapped task."""
        own = accepted_parameters(BaseOperator) - {"task_id", "dag", "task_group", "default_args"}
        return BaseOperator(task_id=task_id, **{k: v for k, v in settings.items() if k in own})

    # -- running --------------------------------------------------------------------------------------

    def prepare_for_execution(self) -> BaseOperator:
        """A shallow copy to render and run, so rendering leaves the DAG's own task untouched."""
        return copy.copy(self)

    def execute(self, context: Mapping[str, Any]) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def pre_execute(self, context: Mapping[str, Any]) -> None:
        """Called by the runner right before ``execute`` (calls the ``pre_execute=`` argument, if given)."""
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context: Mapping[str, Any], result: Any = None) -> None:
        """Called by the runner right after ``execute`` returned (calls ``post_execute=``, if given)."""
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def on_kill(self) -> None:
        """Called when the task is stopped from outside; stop any subprocess or remote job it started."""

    # -- deferral ---------------------------------------------------------------------------------------

    def defer(
        self,
        *,
        trigger: BaseTrigger,
        method_name: str,
        kwargs: dict[str, Any] | None = None,
        timeout: timedelta | float | None = None,
    ) -> NoReturn:
        """End this try for now and wait on ``trigger`` without a process or a slot; when it fires, the task
        resumes in ``method_name(context, event=..., **kwargs)``. ``timeout`` fails the task (with
        TaskDeferralTimeout) if the trigger has not fired by then."""
        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Mapping[str, Any]
    ) -> Any:
        """What the runner calls instead of ``execute`` when a deferred try resumes. ``"__fail__"``: the
        trigger failed (its traceback is written to the log) or timed out; raise accordingly."""
        kwargs = dict(next_kwargs or {})
        if next_method == FAIL_METHOD:
            traceback = kwargs.get("traceback")
            if traceback:
                print("Trigger failed:\n" + "".join(traceback), flush=True)
            error = kwargs.get("error") or "Unknown"
            if error == TIMEOUT_ERROR:
                raise TaskDeferralTimeout(error)
            raise TaskDeferralError(error)
        return getattr(self, next_method)(context, **kwargs)

    # -- templating -----------------------------------------------------------------------------------

    def get_template_env(self) -> Environment:
        if self._dag is not None:
            return self._dag.get_template_env()
        return templating.default_environment()

    def render_template(
        self, content: Any, context: Mapping[str, Any], jinja_env: Environment | None = None
    ) -> Any:
        env = jinja_env or self.get_template_env()
        return templating.render_value(content, context, env, self.template_ext, set())

    def render_template_fields(
        self, context: Mapping[str, Any], jinja_env: Environment | None = None
    ) -> None:
        """Render every field named in ``template_fields`` in place (the runner calls it before execute)."""
        templating.render_template_fields(self, context, jinja_env or self.get_template_env())
