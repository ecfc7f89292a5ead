"""XComArg: a reference to an upstream task's XCom, resolved when the downstream task runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from tradewind.sdk.dependencies import DependencyMixin
from tradewind.sdk.errors import NotFoundError
from tradewind.sdk.resolvable import ResolveMixin

if TYPE_CHECKING:
    from tradewind.sdk.abstractoperator import AbstractOperator

RETURN_VALUE_KEY = "return_value"
_ABSENT = object()


class XComArg(ResolveMixin, DependencyMixin):
    """``task.output`` or what calling an ``@task`` function returns; ``xcom_arg["key"]`` picks another key.

    Passing it to another task makes that task depend on this one. When the upstream task is mapped the
    value is the list of every map index's value, in index order.
    """

    def __init__(self, operator: AbstractOperator, key: str = RETURN_VALUE_KEY) -> None:
        self.operator = operator
        self.key = key

    def __getitem__(self, key: str) -> XComArg:
        return XComArg(self.operator, key)

    def __iter__(self) -> NoReturn:
        raise TypeError(
            f"an XComArg of task {self.operator.task_id!r} has no value while the DAG is defined; "
            "iterate over it inside a task, or map over it with .expand()"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XComArg) and other.operator is self.operator and other.key == self.key

    def __hash__(self) -> int:
        return hash((id(self.operator), self.key))

    def __repr__(self) -> str:
        if self.key == RETURN_VALUE_KEY:
            return f"XComArg(task_id={self.operator.task_id!r})"
        return f"XComArg(task_id={self.operator.task_id!r}, key={self.key!r})"

    def dependency_roots(self) -> list[AbstractOperator]:
        return [self.operator]

    def dependency_leaves(self) -> list[AbstractOperator]:
        return [self.operator]

    def iter_references(self) -> Iterator[tuple[AbstractOperator, str]]:
        yield self.operator, self.key

    def resolve(self, context: Mapping[str, Any]) -> Any:
        value = context["ti"].xcom_pull(task_ids=self.operator.task_id, key=self.key, default=_ABSENT)
        if value is _ABSENT:
            if self.key == RETURN_VALUE_KEY:  # a task that returned None pushed nothing
                return None
            raise NotFoundError(
                f"no XCom {self.key!r} from task {self.operator.task_id!r} in run {context.get('run_id')!r}",
                kind="xcom",
                ident=f"{self.operator.task_id}:{self.key}",
            )
        return value
