"""Isolated Python: functions run by another interpreter (a cached virtualenv built by uv, or a given one),
with arguments, context values and the return value crossing as files, run as the runner does."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.errors import DagDefinitionError, TaskExecutionError
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.operators.isolated_python import (
    BranchExternalPythonOperator,
    ExternalPythonOperator,
    PythonVirtualenvOperator,
    is_venv_installed,
)
from tradewind.sdk.operators.isolated_source import callable_source
from tradewind.sdk.operators.virtualenvs import MARKER_NAME, VenvSpec, ensure_venv, find_uv, read_marker
from tradewind.sdk.runtime import InMemoryRuntime

from .conftest import run_task

#: One small pure-Python requirement, shared by every venv test through the session's cache folder.
REQUIREMENT = "six==1.17.0"


@pytest.fixture(scope="session")
def venv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("venvs")


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The interpreter of a fresh ``python -m venv --without-pip``: no Tradewind, no packages."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    yield str(folder / "bin" / "python")


def add_and_describe(a: int, b: str, ds: str, **context: Any) -> dict[str, Any]:
    import sys

    print("child says hello", file=sys.stderr)
    return {
        "sum": a + int(b),
        "ds": ds,
        "run_id": context["run_id"],
        "strings": virtualenv_string_args,  # type: ignore[name-defined]  # noqa: F821
        "no_ti": "ti" not in context,
        "logical_date_type": type(context["logical_date"]).__name__,
        "executable": sys.executable,
    }


def test_external_python_gets_args_templates_context_and_returns_the_value(
    runtime: InMemoryRuntime, bare_python: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with DAG("iso"):
        op = ExternalPythonOperator(
            task_id="ext",
            python=bare_python,
            python_callable=add_and_describe,
            op_args=[2],
            op_kwargs={"b": "{{ 40 }}"},
            string_args=["first", "second"],
            expect_tradewind=False,
        )
    value = run_task(op, runtime)
    assert value == {
        "sum": 42,
        "ds": "2024-03-05",
        "run_id": "manual__1",
        "strings": ["first", "second"],
        "no_ti": True,
        "logical_date_type": "datetime",
        "executable": bare_python,
    }
    assert json.loads(runtime.xcoms[("iso", "manual__1", "ext", -1, "return_value")])["sum"] == 42
    assert "child says hello" in capfd.readouterr().out  # the child's stderr reaches the task log


def fails() -> None:
    def inner() -> None:
        raise ValueError("the child broke")

    inner()


def test_a_failing_function_fails_the_task_with_the_child_traceback_in_the_log(
    runtime: InMemoryRuntime, bare_python: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with DAG("iso"):
        op = ExternalPythonOperator(task_id="bad", python=bare_python, python_callable=fails)
    with pytest.raises(TaskExecutionError, match="ValueError: the child broke"):
        run_task(op, runtime)
    out = capfd.readouterr().out
    assert "Traceback (most recent call last)" in out
    assert "in inner" in out and "ValueError: the child broke" in out


def needs_ti(ti: Any) -> None:
    pass


def test_asking_for_a_live_context_object_is_refused_before_running(
    runtime: InMemoryRuntime, bare_python: str
) -> None:
    with DAG("iso"):
        op = ExternalPythonOperator(task_id="t", python=bare_python, python_callable=needs_ti)
    with pytest.raises(TaskExecutionError, match="asks for the context value 'ti'"):
        run_task(op, runtime)


def test_only_def_functions_and_known_serializers_are_accepted() -> None:
    with pytest.raises(DagDefinitionError, match="defined with def"):
        ExternalPythonOperator(task_id="l", python=sys.executable, python_callable=lambda: 1)
    with pytest.raises(DagDefinitionError, match="unknown serializer 'json'"):
        ExternalPythonOperator(task_id="s", python=sys.executable, python_callable=fails, serializer="json")


def test_the_source_sent_has_no_decorators_and_is_dedented() -> None:
    @task.virtualenv(
        requirements=[REQUIREMENT],
        system_site_packages=False,
    )
    def decorated(x: int) -> int:
        return x + 1

    source = callable_source(decorated.function)
    assert source.startswith("def decorated(x: int) -> int:")
    assert "@task" not in source


def six_version() -> str:
    import six

    return str(six.__version__)


def test_virtualenv_is_built_by_uv_with_the_requirements_and_reused(
    runtime: InMemoryRuntime, venv_cache: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert is_venv_installed() and find_uv() is not None
    with DAG("iso"):
        first = PythonVirtualenvOperator(
            task_id="first",
            python_callable=six_version,
            requirements=[REQUIREMENT],
            system_site_packages=False,
            venv_cache_path=str(venv_cache),
        )

        @task.virtualenv(
            requirements=[REQUIREMENT], system_site_packages=False, venv_cache_path=str(venv_cache)
        )
        def again(suffix: str) -> str:
            import six

            return six.__version__ + suffix

        second = again("{{ ds_nodash }}")
    assert run_task(first, runtime) == "1.17.0"
    venvs = [p for p in venv_cache.iterdir() if p.is_dir()]
    assert len(venvs) == 1
    marker = read_marker(venvs[0])
    assert marker is not None and marker["spec"]["requirements"] == [REQUIREMENT]  # type: ignore[index]
    built_at = marker["created_at"]
    assert "uv" in capfd.readouterr().out

    # The decorated task has the same requirements: the cached venv serves it, nothing is rebuilt.
    assert run_task(second.operator, runtime) == "1.17.020240305"
    assert read_marker(venvs[0]) == marker and marker["created_at"] == built_at
    assert "Reusing the cached virtualenv" in capfd.readouterr().out


def test_a_half_built_venv_is_removed_and_built_again(tmp_path: Path) -> None:
    spec = VenvSpec(python=sys.executable, system_site_packages=False)
    folder = tmp_path / f"venv-{spec.digest()[:16]}"
    folder.mkdir()
    (folder / "leftover").write_text("from a killed try")
    python = ensure_venv(spec, tmp_path)
    assert python.exists() and not (folder / "leftover").exists()
    assert (folder / MARKER_NAME).exists()
    assert ensure_venv(spec, tmp_path) == python


def choose(options: list[str], ds: str) -> str:
    return options[0] if ds.endswith("05") else options[1]


def test_branch_external_python_follows_the_returned_path(runtime: InMemoryRuntime, bare_python: str) -> None:
    with DAG("iso"):
        branch = BranchExternalPythonOperator(
            task_id="branch",
            python=bare_python,
            python_callable=choose,
            op_kwargs={"options": ["left", "right"]},
            expect_tradewind=False,
        )
        branch >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
    assert run_task(branch, runtime) == "left"
    assert runtime.skipped[("iso", "manual__1")] == ["right"]


def test_branch_virtualenv_decorator_follows_the_returned_path(
    runtime: InMemoryRuntime, venv_cache: Path
) -> None:
    with DAG("iso"):

        @task.branch_virtualenv(
            requirements=[REQUIREMENT], system_site_packages=False, venv_cache_path=str(venv_cache)
        )
        def pick() -> str:
            import six

            return "b" if six.PY3 else "a"

        chosen = pick()
        chosen >> [EmptyOperator(task_id="a"), EmptyOperator(task_id="b")]
    assert run_task(chosen.operator, runtime) == "b"
    assert runtime.skipped[("iso", "manual__1")] == ["a"]


def airflow2_names(next_ds: str, yesterday_ds: str, execution_date: Any) -> str:
    return f"{yesterday_ds}|{next_ds}|{execution_date.isoformat()}"


def test_airflow2_context_names_the_function_asks_for_are_passed(
    runtime: InMemoryRuntime, bare_python: str
) -> None:
    with DAG("iso"):
        op = ExternalPythonOperator(
            task_id="legacy", python=bare_python, python_callable=airflow2_names, expect_tradewind=False
        )
    assert run_task(op, runtime) == "2024-03-04|2024-03-05|2024-03-05T06:07:08+00:00"


def test_pendulum_values_cross_as_standard_datetimes(runtime: InMemoryRuntime, bare_python: str) -> None:
    import pendulum

    def keep(when: Any) -> str:
        return f"{type(when).__module__}.{type(when).__name__} {when.isoformat()} {when.tzinfo}"

    with DAG("iso"):
        op = ExternalPythonOperator(
            task_id="p",
            python=bare_python,
            python_callable=keep,
            op_kwargs={"when": pendulum.datetime(2026, 5, 4, 3, 2, 1, tz="Europe/Paris")},
            expect_tradewind=False,
        )
    assert run_task(op, runtime) == "datetime.datetime 2026-05-04T03:02:01+02:00 Europe/Paris"


def test_a_mapped_external_python_task_runs_once_per_element(
    runtime: InMemoryRuntime, bare_python: str
) -> None:
    with DAG("iso"):

        @task.external_python(python=bare_python, expect_tradewind=False)
        def double(x: int, map_index: int = -1) -> int:
            return x * 2 + map_index * 100

        mapped = double.expand(x=[1, 2, 3])
    assert [run_task(mapped.operator, runtime, map_index=i) for i in range(3)] == [2, 104, 206]


def exits_with(code: int) -> None:
    import sys

    sys.exit(code)


def test_skip_on_exit_code_skips_the_task(runtime: InMemoryRuntime, bare_python: str) -> None:
    from tradewind.sdk.errors import TaskSkipped

    with DAG("iso"):
        op = ExternalPythonOperator(
            task_id="s", python=bare_python, python_callable=exits_with, op_args=[3], skip_on_exit_code=3
        )
    with pytest.raises(TaskSkipped, match="exited with code 3"):
        run_task(op, runtime)


def named_like_context(task: str, dag: str) -> str:
    return task + dag


def test_arguments_named_like_live_context_values_are_fine_when_given(
    runtime: InMemoryRuntime, bare_python: str
) -> None:
    with DAG("iso"):
        op = ExternalPythonOperator(
            task_id="n",
            python=bare_python,
            python_callable=named_like_context,
            op_args=["a"],
            op_kwargs={"dag": "b"},
            expect_tradewind=False,
        )
    assert run_task(op, runtime) == "ab"


BUILD = """
import sys
from pathlib import Path
from tradewind.sdk.operators.virtualenvs import VenvSpec, ensure_venv
spec = VenvSpec(python=sys.executable, requirements=(sys.argv[2],), system_site_packages=False)
print("python:", ensure_venv(spec, Path(sys.argv[1])))
"""


def test_two_processes_wanting_the_same_venv_build_it_once(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD, str(tmp_path), REQUIREMENT], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sum(out.count("Created the virtualenv") for out in outputs) == 1
    pythons = {line for out in outputs for line in out.splitlines() if line.startswith("python:")}
    assert len(pythons) == 1
