"""The public authoring names of ``tradewind``, and that importing them stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import tradewind

EXPECTED = {
    "DAG",
    "dag",
    "task",
    "task_group",
    "BaseOperator",
    "BashOperator",
    "PythonOperator",
    "EmptyOperator",
    "BranchPythonOperator",
    "ShortCircuitOperator",
    "TaskGroup",
    "chain",
    "Param",
    "Variable",
    "TriggerRule",
    "XComArg",
    "TaskSkipped",
    "TaskFailedNoRetry",
    "setup",
    "teardown",
    "Label",
    "get_current_context",
}

HEAVY = [
    "sqlalchemy",
    "fastapi",
    "starlette",
    "celery",
    "kubernetes",
    "jinja2",
    "croniter",
    "jsonschema",
    "pydantic",
]


def test_all_is_exactly_the_public_names() -> None:
    assert set(tradewind.__all__) == EXPECTED
    assert len(tradewind.__all__) == len(EXPECTED)


def test_every_public_name_resolves() -> None:
    for name in tradewind.__all__:
        assert getattr(tradewind, name) is not None, name
    assert tradewind.__version__


def test_unknown_names_raise_attribute_error() -> None:
    try:
        _ = tradewind.NotAThing
    except AttributeError as exc:
        assert "NotAThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_tradewind_imports_nothing_heavy() -> None:
    assert loaded_after("import tradewind") == []


def test_authoring_a_dag_imports_nothing_heavy() -> None:
    code = (
        "from tradewind import DAG, task, BashOperator, TaskGroup, chain, Param\n"
        "with DAG('d', params={'n': Param(1, type='integer')}) as d:\n"
        "    a = BashOperator(task_id='a', bash_command='echo')\n"
        "    @task\n"
        "    def f(x): return x\n"
        "    with TaskGroup('g'):\n"
        "        b = f(a.output)\n"
        "    chain(a, b)\n"
    )
    assert loaded_after(code) == []


def test_croniter_comes_with_a_cron_schedule_and_jinja_with_rendering() -> None:
    cron = "from tradewind import DAG\nDAG('d', schedule='@daily')"
    assert loaded_after(cron) == ["croniter"]
    render = "from tradewind import DAG\nDAG('d').get_template_env()"
    assert loaded_after(render) == ["jinja2"]
