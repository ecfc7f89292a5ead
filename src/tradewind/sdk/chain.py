"""``chain``, ``chain_linear`` and ``cross_downstream``: wiring many tasks in one call, as Airflow's helpers do."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from tradewind.sdk.dependencies import DependencyMixin, flatten_relatives


def chain(*elements: Any) -> None:
    """``chain(a, [b, c], [d, e], f)``: a >> [b, c]; b >> d and c >> e (lists of the same length pair up);
    [d, e] >> f. Two adjacent lists of different lengths are an error."""
    for up, down in itertools.pairwise(elements):
        up_is_list = _is_list(up)
        down_is_list = _is_list(down)
        if up_is_list and down_is_list:
            ups, downs = flatten_relatives(up), flatten_relatives(down)
            if len(ups) != len(downs):
                raise ValueError(
                    f"chain() cannot pair lists of different lengths ({len(ups)} and {len(downs)})"
                )
            for u, d in zip(ups, downs, strict=True):
                u.set_downstream(d)
        elif up_is_list:
            for u in flatten_relatives(up):
                u.set_downstream(down)
        else:
            _node(up).set_downstream(down)


def cross_downstream(from_tasks: Sequence[Any], to_tasks: Any) -> None:
    """Every task of ``from_tasks`` upstream of every task of ``to_tasks``."""
    for task in flatten_relatives(from_tasks):
        task.set_downstream(to_tasks)


def chain_linear(*elements: Any) -> None:
    """``chain_linear(a, [b, c], [d, e], f)``: every task of each element upstream of every task of the next
    (a >> [b, c]; b >> [d, e]; c >> [d, e]; [d, e] >> f). Needs at least two elements."""
    if len(elements) < 2:
        raise ValueError("chain_linear() needs at least two tasks or lists of tasks")
    for up, down in itertools.pairwise(elements):
        for task in flatten_relatives(up) if _is_list(up) else [_node(up)]:
            task.set_downstream(down)


def _is_list(value: Any) -> bool:
    return (
        not isinstance(value, DependencyMixin) and isinstance(value, Sequence) and not isinstance(value, str)
    )


def _node(value: Any) -> DependencyMixin:
    if isinstance(value, DependencyMixin):
        return value
    raise TypeError(f"chain() takes tasks, task groups, XComArgs and lists of them; got {value!r}")
