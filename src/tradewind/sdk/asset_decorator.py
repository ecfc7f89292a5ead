"""``@asset``: a function that materialises one asset becomes a DAG with one task producing that asset;
``@asset.multi(outlets=[...])``: one task producing several.

The decorated name is the asset itself (so other DAGs can schedule on it). The function's parameters are
filled at run time: ``self`` (the asset), ``context``, ``outlet_events``, and any other name is an inlet:
the asset of that name (a reference, usable as a key of ``context["inlet_events"]``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from typing import Any

from tradewind.sdk.assets import Asset, AssetAll, AssetNameRef, BaseAsset
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.operators.python import PythonOperator

_SPECIAL = ("self", "context", "outlet_events")


def _check_function(function: Callable[..., Any]) -> None:
    if function.__name__ != function.__qualname__:
        raise DagDefinitionError(f"@asset: nested function {function.__qualname__!r} is not supported")
    for name, param in inspect.signature(function).parameters.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise DagDefinitionError(f"@asset {function.__name__!r}: *{name} / **{name} is not supported")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY and param.default is inspect.Parameter.empty:
            raise DagDefinitionError(
                f"@asset {function.__name__!r}: positional-only argument {name!r} needs a default"
            )


def _inlet_names(function: Callable[..., Any]) -> list[str]:
    return [
        name
        for name, param in inspect.signature(function).parameters.items()
        if name not in _SPECIAL and param.default is inspect.Parameter.empty
    ]


class AssetMainOperator(PythonOperator):
    """The one task of an ``@asset`` DAG: calls the function with the asset, the context and its inlets."""

    def __init__(self, *, definition: BaseAsset, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.definition = definition

    def execute(self, context: Mapping[str, Any]) -> Any:
        values: dict[str, Any] = {}
        for name, param in inspect.signature(self.python_callable).parameters.items():
            if param.default is not inspect.Parameter.empty:
                continue
            if name == "self":
                values[name] = self.definition
            elif name == "context":
                values[name] = context
            elif name == "outlet_events":
                values[name] = context["outlet_events"]
            else:
                values[name] = AssetNameRef(name)
        self.op_kwargs = {**self.op_kwargs, **values}
        return super().execute(context)


class _DagFactory:
    def __init__(self, *, schedule: object, dag_id: str | None, dag_kwargs: dict[str, Any]) -> None:
        self.schedule = schedule
        self.dag_id = dag_id
        self.dag_kwargs = dag_kwargs

    def build(self, function: Callable[..., Any], definition: BaseAsset, outlets: list[BaseAsset]) -> DAG:
        _check_function(function)
        options = {"catchup": False, **self.dag_kwargs}
        with DAG(self.dag_id or function.__name__, schedule=self.schedule, **options) as new_dag:
            AssetMainOperator(
                task_id=function.__name__,
                python_callable=function,
                inlets=[AssetNameRef(name) for name in _inlet_names(function)],
                outlets=outlets,
                definition=definition,
            )
        return new_dag


class asset(_DagFactory):
    """``@asset(uri="s3://bucket/key", schedule="@daily")`` over a function named after the asset."""

    def __init__(
        self,
        *,
        schedule: object,
        name: str | None = None,
        uri: str | None = None,
        group: str | None = None,
        extra: Mapping[str, Any] | None = None,
        dag_id: str | None = None,
        **dag_kwargs: Any,
    ) -> None:
        super().__init__(schedule=schedule, dag_id=dag_id, dag_kwargs=dag_kwargs)
        self.name = name
        self.uri = uri
        self.group = group
        self.extra = dict(extra or {})

    def __call__(self, function: Callable[..., Any]) -> AssetDefinition:
        name = self.name or function.__name__
        definition = AssetDefinition(name=name, uri=self.uri or name, group=self.group, extra=self.extra)
        definition.dag = self.build(function, definition, [definition])
        return definition

    class multi(_DagFactory):
        """``@asset.multi(outlets=[a, b], schedule=...)``: one task producing every outlet."""

        def __init__(
            self,
            *,
            outlets: Collection[BaseAsset],
            schedule: object,
            dag_id: str | None = None,
            **dag_kwargs: Any,
        ) -> None:
            if not outlets:
                raise DagDefinitionError("@asset.multi needs outlets=[...]")
            super().__init__(schedule=schedule, dag_id=dag_id, dag_kwargs=dag_kwargs)
            self.outlets = list(outlets)

        def __call__(self, function: Callable[..., Any]) -> MultiAssetDefinition:
            definition = MultiAssetDefinition(*self.outlets)
            definition.dag = self.build(function, definition, list(self.outlets))
            return definition


class AssetDefinition(Asset):
    """What ``@asset`` leaves under the function's name: the asset, with the DAG that produces it."""

    dag: DAG | None = None


class MultiAssetDefinition(AssetAll):
    """What ``@asset.multi`` leaves under the function's name: all its outlets, with the producing DAG."""

    dag: DAG | None = None
