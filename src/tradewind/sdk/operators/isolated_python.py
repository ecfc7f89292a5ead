"""Operators that run their function in another Python interpreter: a cached virtualenv or a given one.

``PythonVirtualenvOperator`` / ``@task.virtualenv`` build (once, cached) a venv with the requirements;
``ExternalPythonOperator`` / ``@task.external_python`` use an existing interpreter. The function's source
runs there; its arguments, the context values it asks for and its return value cross as serialized files.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operators.branch import BranchMixin
from tradewind.sdk.operators.isolated_call import SERIALIZERS, IsolatedCall, IsolatedProcess
from tradewind.sdk.operators.isolated_source import callable_source, check_isolatable
from tradewind.sdk.operators.python import PythonOperator, emit
from tradewind.sdk.operators.virtualenvs import VenvSpec, default_cache_folder, ensure_venv, find_uv

#: Context values that are plain data, handed to a function that asks for them by name. Live objects
#: (``ti``, ``dag_run``, ``task``, ``dag``, ``var``, ``macros``) stay in Tradewind's process.
SERIALIZABLE_CONTEXT_KEYS = frozenset(
    {
        "ds", "ds_nodash", "ts", "ts_nodash", "ts_nodash_with_tz", "run_id", "task_instance_key_str",
        "test_mode", "map_index", "try_number", "expanded_ti_count", "params", "templates_dict",
        "next_ds", "next_ds_nodash", "prev_ds", "prev_ds_nodash", "tomorrow_ds", "tomorrow_ds_nodash",
        "yesterday_ds", "yesterday_ds_nodash", "inlets", "outlets",
        "logical_date", "data_interval_start", "data_interval_end", "execution_date",
        "next_execution_date", "prev_execution_date", "prev_execution_date_success",
        "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
        "prev_end_date_success",
    }
)  # fmt: skip


def is_venv_installed() -> bool:
    """True when virtualenvs can be built here: ``uv`` is found, or the standard ``venv`` module is there."""
    return find_uv() is not None or importlib.util.find_spec("venv") is not None


def _is_standard(value: datetime) -> bool:
    return type(value) is datetime and (value.tzinfo is None or type(value.tzinfo) in (ZoneInfo, timezone))


def _plain(value: Any) -> Any:
    """A pendulum datetime as a standard one (the target interpreter may lack pendulum), containers too."""
    if isinstance(value, datetime) and not _is_standard(value):
        zone: Any = value.tzinfo
        # pendulum's Timezone subclasses ZoneInfo, yet unpickling it needs pendulum: rebuild it.
        if zone is not None and type(zone) not in (ZoneInfo, timezone):
            name = getattr(zone, "name", None)
            try:
                zone = ZoneInfo(name) if isinstance(name, str) else None
            except (KeyError, ValueError):
                zone = None
            offset = value.utcoffset()
            zone = zone or (timezone(offset) if offset is not None else None)
        return datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second,
            value.microsecond, tzinfo=zone,
        )  # fmt: skip
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class _IsolatedPythonOperator(PythonOperator):
    """What the venv and external-interpreter operators share: the call in a child interpreter."""

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        serializer: str | None = None,
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        string_args: Iterable[str] | None = None,
        templates_dict: Mapping[str, Any] | None = None,
        templates_exts: Sequence[str] | None = None,
        expect_tradewind: bool = True,
        expect_airflow: bool | None = None,
        skip_on_exit_code: int | Container[int] | None = None,
        env_vars: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        **kwargs: Any,
    ) -> None:
        owner = f"{type(self).__name__}(task_id={kwargs.get('task_id')!r})"
        check_isolatable(python_callable, owner)
        serializer = serializer or "pickle"
        if serializer not in SERIALIZERS:
            raise DagDefinitionError(
                f"{owner}: unknown serializer {serializer!r}; expected one of {', '.join(SERIALIZERS)}"
            )
        self.serializer = serializer
        self.string_args = [str(a) for a in string_args or ()]
        #: Airflow's ``expect_airflow`` is accepted as the same switch.
        self.expect_tradewind = expect_tradewind if expect_airflow is None else expect_airflow
        if skip_on_exit_code is None:
            self.skip_on_exit_code: Container[int] = ()
        elif isinstance(skip_on_exit_code, int):
            self.skip_on_exit_code = (skip_on_exit_code,)
        else:
            self.skip_on_exit_code = skip_on_exit_code
        self.env_vars = dict(env_vars) if env_vars is not None else None
        self.inherit_env = inherit_env
        self._isolated: IsolatedProcess | None = None
        super().__init__(
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            templates_dict=templates_dict,
            templates_exts=templates_exts,
            **kwargs,
        )

    def execute(self, context: Mapping[str, Any]) -> Any:
        passed = {k: _plain(v) for k, v in context.items() if k in SERIALIZABLE_CONTEXT_KEYS}
        # Airflow 2 names (next_ds, execution_date ...) are computed on lookup: read those the function names.
        for name in inspect.signature(self.python_callable).parameters:
            if name in SERIALIZABLE_CONTEXT_KEYS and name not in passed and name in context:
                passed[name] = _plain(context[name])
        self._check_asked_context(context, passed)
        return super().execute(passed)

    def _check_asked_context(self, context: Mapping[str, Any], passed: Mapping[str, Any]) -> None:
        """Fail with a clear message, before any venv is built, when the function needs a live object."""
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        params = list(inspect.signature(self.python_callable).parameters.values())
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        given = set(positional[: len(self.op_args)]) | set(self.op_kwargs)
        for param in params:
            name = param.name
            unavailable = name in context and name not in passed and name not in given
            if unavailable and param.default is inspect.Parameter.empty and param.kind not in variadic:
                raise TaskExecutionError(
                    f"task {self.task_id!r}: {self.python_callable.__name__}() asks for the context "
                    f"value {name!r}, which is a live Tradewind object and cannot be passed to another "
                    f"interpreter; pass what you need through op_kwargs or templates instead"
                )

    def target_python(self) -> str:
        raise NotImplementedError

    def _environment(self) -> dict[str, str] | None:
        env = dict(os.environ) if self.inherit_env else {}
        env.update(self.env_vars or {})
        return env

    def execute_callable(self, kwargs: Mapping[str, Any]) -> Any:
        python = self.target_python()
        call = IsolatedCall(
            python=python,
            name=self.python_callable.__name__,
            source=callable_source(self.python_callable),
            args=_plain(list(self.op_args)),
            kwargs=_plain(dict(kwargs)),
            string_args=self.string_args,
            serializer=self.serializer,
            env=self._environment(),
            skip_on_exit_code=self.skip_on_exit_code,
        )
        self._isolated = IsolatedProcess()
        return self._isolated.run(call)

    def on_kill(self) -> None:
        if self._isolated is not None:
            self._isolated.kill()


class PythonVirtualenvOperator(_IsolatedPythonOperator):
    """Runs ``python_callable`` in a virtualenv built with ``requirements`` (a list, or a requirements file:
    a ``.txt`` path rendered from the DAG folder or an absolute path), cached by its hash under
    ``venv_cache_path`` (default ``[core] venv_cache_path``, i.e. ``$TRADEWIND_HOME/venvs``)."""

    template_fields: Sequence[str] = (
        "requirements", "index_urls", "venv_cache_path", "templates_dict", "op_args", "op_kwargs",
    )  # fmt: skip
    template_ext: Sequence[str] = (".txt",)

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        requirements: Iterable[str] | str | None = None,
        python_version: str | None = None,
        system_site_packages: bool = True,
        pip_install_options: Sequence[str] | None = None,
        index_urls: Sequence[str] | str | None = None,
        venv_cache_path: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        owner = f"{type(self).__name__}(task_id={kwargs.get('task_id')!r})"
        if python_version is not None and not isinstance(python_version, str):
            raise DagDefinitionError(f"{owner}: python_version must be a string such as '3.11'")
        if (
            python_version
            and python_version[0] != str(sys.version_info.major)
            and (kwargs.get("op_args") or kwargs.get("op_kwargs"))
        ):
            raise DagDefinitionError(
                f"{owner}: op_args and op_kwargs cannot cross to Python {python_version}; use string_args"
            )
        if not requirements:
            self.requirements: Any = []
        elif isinstance(requirements, str):
            self.requirements = requirements if _is_file_path(requirements) else [requirements]
        else:
            self.requirements = list(requirements)
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.pip_install_options = list(pip_install_options or [])
        self.index_urls = [index_urls] if isinstance(index_urls, str) else index_urls
        self.venv_cache_path = os.fspath(venv_cache_path) if venv_cache_path is not None else None
        super().__init__(python_callable=python_callable, **kwargs)

    def render_template_fields(self, context: Mapping[str, Any], jinja_env: Any = None) -> None:
        # An absolute requirements file is read as it is (the template loader only sees the DAG folder).
        if isinstance(self.requirements, str) and os.path.isabs(self.requirements):
            try:
                self.requirements = Path(self.requirements).read_text(encoding="utf-8")
            except OSError as exc:
                raise TaskExecutionError(
                    f"task {self.task_id!r}: cannot read the requirements file {self.requirements}: {exc}"
                ) from exc
        super().render_template_fields(context, jinja_env)

    def requirement_lines(self) -> list[str]:
        """The requirements, one per line (a rendered file's lines included), serializer added, sorted."""
        entries = [self.requirements] if isinstance(self.requirements, str) else self.requirements
        lines = {
            line.strip()
            for entry in entries
            for line in str(entry).splitlines()
            if line.strip() and not line.strip().startswith("#")
        }
        if not self.system_site_packages and self.serializer != "pickle":
            names = {line.split("=")[0].split("<")[0].split(">")[0].split("~")[0].strip() for line in lines}
            if self.serializer not in names:
                lines.add(self.serializer)
        return sorted(lines)

    def venv_spec(self) -> VenvSpec:
        return VenvSpec(
            python=self.python_version or sys.executable,
            requirements=tuple(self.requirement_lines()),
            system_site_packages=self.system_site_packages,
            pip_install_options=tuple(str(o) for o in self.pip_install_options),
            index_urls=tuple(self.index_urls) if self.index_urls is not None else None,
        )

    def target_python(self) -> str:
        cache = Path(self.venv_cache_path).expanduser() if self.venv_cache_path else default_cache_folder()
        return str(ensure_venv(self.venv_spec(), cache))


def _is_file_path(value: str) -> bool:
    return "\n" not in value and value.strip().endswith(".txt")


class ExternalPythonOperator(_IsolatedPythonOperator):
    """Runs ``python_callable`` with the interpreter at ``python`` (an absolute path), as it is."""

    template_fields: Sequence[str] = ("python", "templates_dict", "op_args", "op_kwargs")

    def __init__(self, *, python: str, python_callable: Callable[..., Any], **kwargs: Any) -> None:
        if not python:
            raise DagDefinitionError(
                f"{type(self).__name__}(task_id={kwargs.get('task_id')!r}): python (the interpreter path) "
                "must be given"
            )
        self.python = os.fspath(python)
        super().__init__(python_callable=python_callable, **kwargs)

    def target_python(self) -> str:
        path = Path(self.python)
        if not path.is_absolute():
            raise TaskExecutionError(
                f"task {self.task_id!r}: python {self.python!r} must be an absolute path"
            )
        if not path.is_file():
            raise TaskExecutionError(f"task {self.task_id!r}: python {self.python!r} is not an existing file")
        if self.expect_tradewind and not _imports_tradewind(self.python):
            emit(
                f"Note: Tradewind is not importable by {self.python}; only plain-data context values "
                "are passed to the function (expect_tradewind=False silences this)"
            )
        return self.python


def _imports_tradewind(python: str) -> bool:
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('tradewind') else 1)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class BranchPythonVirtualenvOperator(PythonVirtualenvOperator, BranchMixin):
    """A branch whose function runs in a virtualenv: it returns the task id(s) to follow."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


class BranchExternalPythonOperator(ExternalPythonOperator, BranchMixin):
    """A branch whose function runs with an external interpreter: it returns the task id(s) to follow."""

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.do_branch(context, super().execute(context))


__all__ = [
    "BranchExternalPythonOperator",
    "BranchPythonVirtualenvOperator",
    "ExternalPythonOperator",
    "PythonVirtualenvOperator",
    "is_venv_installed",
]
