"""Templating: Airflow's Jinja environment per DAG, recursive rendering, template files, clear errors."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tradewind.sdk.baseoperator import BaseOperator
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import TemplateError
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.runtime import InMemoryRuntime

from .conftest import LOGICAL_DATE


class Point(NamedTuple):
    x: str
    y: str


class Holder:
    template_fields = ("inner",)

    def __init__(self, inner: str) -> None:
        self.inner = inner


class Templated(BaseOperator):
    template_fields = ("value",)
    template_ext = (".sql",)

    def __init__(self, *, value: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value

    def execute(self, context: Mapping[str, Any]) -> Any:
        return self.value


def render(op: BaseOperator, conf: dict[str, Any] | None = None) -> Any:
    context = build_context(task=op, run_id="r1", logical_date=LOGICAL_DATE, conf=conf)
    op.render_template_fields(context)
    return getattr(op, op.template_fields[0])


def test_strings_render_with_the_context(runtime: InMemoryRuntime) -> None:
    with DAG("d", params={"who": "ana"}):
        op = Templated(
            task_id="t", value="{{ ds }} {{ ts_nodash }} {{ params.who }} {{ task.task_id }} {{ run_id }}"
        )
    assert render(op) == "2024-03-05 20240305T060708 ana t r1"


def test_containers_render_recursively(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        op = Templated(
            task_id="t",
            value={
                "list": ["{{ ds_nodash }}", 1],
                "tuple": ("{{ run_id }}",),
                "set": {"{{ 1 + 1 }}"},
                "named": Point("{{ 'a' }}", "b"),
                "nested": Holder("{{ run_id }}"),
                "n": None,
            },
        )
    value = render(op)
    assert value["list"] == ["20240305", 1]
    assert value["tuple"] == ("r1",)
    assert value["set"] == {"2"}
    assert value["named"] == Point("a", "b")
    assert value["nested"].inner == "r1"
    assert value["n"] is None


def test_an_undefined_name_fails_with_the_task_and_field(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        op = Templated(task_id="t", value="{{ not_defined }}")
    with pytest.raises(TemplateError) as info:
        render(op)
    assert info.value.task_id == "t" and info.value.field == "value"
    assert "task 't': cannot render template field 'value'" in str(info.value)
    assert "not_defined" in str(info.value)


def test_a_syntax_error_fails_with_the_task_and_field(runtime: InMemoryRuntime) -> None:
    with DAG("d"):
        op = Templated(task_id="t", value="{{ broken ")
    with pytest.raises(TemplateError, match="TemplateSyntaxError"):
        render(op)


def test_template_files_come_from_the_dag_folder_and_searchpath(
    runtime: InMemoryRuntime, tmp_path: Path
) -> None:
    extra = tmp_path / "sql"
    extra.mkdir()
    (extra / "query.sql").write_text("select '{{ ds }}'")
    here = Path(__file__).parent
    with DAG("d", template_searchpath=str(extra)) as d:
        op = Templated(task_id="t", value="query.sql")
        missing = Templated(task_id="m", value="missing.sql")
    assert d.folder == str(here)
    assert render(op) == "select '2024-03-05'"
    with pytest.raises(TemplateError, match=r"TemplateNotFound: 'missing\.sql' not found in search paths"):
        render(missing)


def test_bash_script_file_is_a_template(runtime: InMemoryRuntime, tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_text("echo running {{ ds }}\n")
    with DAG("d", template_searchpath=[str(tmp_path)]):
        op = BashOperator(task_id="t", bash_command="run.sh")
    assert render(op) == "echo running 2024-03-05"


def test_user_macros_and_filters(runtime: InMemoryRuntime) -> None:
    with DAG("d", user_defined_macros={"project": "tw"}, user_defined_filters={"shout": str.upper}):
        op = Templated(task_id="t", value="{{ project | shout }} {{ logical_date | ds_nodash }}")
    assert render(op) == "TW 20240305"


def test_native_rendering_returns_python_objects(runtime: InMemoryRuntime) -> None:
    with DAG("d", render_template_as_native_obj=True, params={"items": [1, 2]}):
        op = Templated(task_id="t", value="{{ params['items'] }}")
        plain = Templated(task_id="p", value="123")
    assert render(op) == [1, 2]
    assert render(plain) == 123
    with DAG("s", params={"items": [1, 2]}):
        as_text = Templated(task_id="t", value="{{ params['items'] }}")
    assert render(as_text) == "[1, 2]"


def test_macros_are_available(runtime: InMemoryRuntime) -> None:
    template = (
        "{{ macros.ds_add(ds, 5) }}|{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}|"
        "{{ (macros.datetime(2024, 1, 2) + macros.timedelta(days=1)).day }}|"
        "{{ macros.json.dumps({'a': 1}) }}|"
        "{{ macros.uuid.uuid4() | string | length }}"
    )
    with DAG("d"):
        op = Templated(task_id="t", value=template)
    assert render(op) == '2024-03-10|05/03/2024|3|{"a": 1}|36'


def test_jinja_is_not_imported_until_rendering() -> None:
    # Checked in a subprocess in test_public_names; here: the environment is built only on demand.
    dag = DAG("lazy")
    assert "_template_env" not in dag.__dict__
    dag.get_template_env()
    assert "_template_env" in dag.__dict__
    assert "jinja2" in sys.modules
