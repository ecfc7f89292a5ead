"""Loading the plugins folder: macros in templates, timetables registered, extra links found, and a broken
plugin file reported with its file and line while the good ones load."""

from __future__ import annotations

import logging
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.config.settings import load_settings
from tradewind.plugins.extra_links import link_keys
from tradewind.plugins.registry import LoadedPlugins, ensure_plugins_loaded
from tradewind.sdk.context import build_context
from tradewind.sdk.dag import DAG
from tradewind.sdk.operators.bash import BashOperator
from tradewind.sdk.operators.empty import EmptyOperator
from tradewind.sdk.schedules import timetable_from_dict, timetable_to_dict

GOOD = """
from airflow.plugins_manager import AirflowPlugin
from tradewind import BashOperator
from tradewind.sdk.operator_links import BaseOperatorLink
from tradewind.sdk.timetables.base import DataInterval, Timetable


def shout(text):
    return text.upper() + "!"


class YesterdayTimetable(Timetable):
    def next_dagrun_info(self, *, last_automated_data_interval, restriction):
        return None

    def infer_manual_data_interval(self, *, run_after):
        from datetime import timedelta
        return DataInterval(run_after - timedelta(days=1), run_after)


class DocsLink(BaseOperatorLink):
    name = "Docs"
    operators = [BashOperator]

    def get_link(self, operator, *, ti_key):
        return f"https://docs.example.com/{ti_key.dag_id}/{operator.task_id}"


class MonitorLink(BaseOperatorLink):
    name = "Monitor"

    def get_link(self, operator, *, ti_key):
        return f"https://monitor.example.com/{ti_key.run_id}"


class {name}Plugin(AirflowPlugin):
    name = "{name}"
    macros = [shout]
    timetables = [YesterdayTimetable]
    operator_extra_links = [DocsLink()]
    global_operator_extra_links = [MonitorLink()]
"""

BROKEN = """\
import os

value = 1
raise RuntimeError("this plugin is broken")
"""

SYNTAX = "def oops(:\n    pass\n"


def load(tw_home: Path, files: dict[str, str]) -> LoadedPlugins:
    folder = tw_home / "plugins"
    folder.mkdir()
    for name, source in files.items():
        (folder / name).write_text(textwrap.dedent(source))
    return ensure_plugins_loaded(load_settings())


def test_a_broken_file_is_reported_with_its_line_and_the_good_plugin_loads(
    tw_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="tradewind.plugins"):
        state = load(
            tw_home,
            {"good_a.py": GOOD.replace("{name}", "plug_a"), "broken.py": BROKEN, "syntax.py": SYNTAX},
        )
    assert [p.name for p in state.plugins] == ["plug_a"]
    errors = {Path(e.filename).name: e for e in state.errors}
    assert (
        errors["broken.py"].lineno == 4
        and "RuntimeError: this plugin is broken" in errors["broken.py"].message
    )
    assert errors["syntax.py"].lineno == 1 and "SyntaxError" in errors["syntax.py"].message
    logged = caplog.text
    assert f"{tw_home / 'plugins' / 'broken.py'} (line 4)" in logged
    assert 'raise RuntimeError("this plugin is broken")' in logged
    # Once per process: a second call imports nothing again.
    assert ensure_plugins_loaded(load_settings()) is state


def test_macros_render_in_templates_and_timetables_rebuild_from_their_stored_form(tw_home: Path) -> None:
    state = load(tw_home, {"good_b.py": GOOD.replace("{name}", "plug_b")})
    plugin = state.plugins[0]
    with DAG("macros_dag"):
        op = BashOperator(task_id="say", bash_command="echo {{ macros.plug_b.shout('hi') }} {{ ds }}")
    start = datetime(2026, 1, 2, tzinfo=UTC)
    op.render_template_fields(build_context(task=op, run_id="r", logical_date=start))
    assert op.bash_command == "echo HI! 2026-01-02"

    timetable = plugin.timetables[0]()
    stored = timetable_to_dict(timetable)
    assert stored["type"] == "custom"
    rebuilt = timetable_from_dict(stored)
    assert type(rebuilt) is plugin.timetables[0]
    assert rebuilt.infer_manual_data_interval(run_after=start).start == datetime(2026, 1, 1, tzinfo=UTC)


def test_extra_links_apply_to_their_operators_and_global_links_to_all(tw_home: Path) -> None:
    load(tw_home, {"good_c.py": GOOD.replace("{name}", "plug_c")})
    with DAG("links_dag"):
        bash = BashOperator(task_id="b", bash_command="true")
        empty = EmptyOperator(task_id="e")
    assert link_keys(bash) == {"Docs": "_link_DocsLink", "Monitor": "_link_MonitorLink"}
    assert link_keys(empty) == {"Monitor": "_link_MonitorLink"}


def test_a_missing_plugins_folder_loads_nothing(tw_home: Path) -> None:
    state = ensure_plugins_loaded(load_settings())
    assert state.plugins == [] and state.errors == []


def test_an_operator_declares_its_own_links_as_a_list_or_a_property(tw_home: Path) -> None:
    from tradewind.sdk.operator_links import BaseOperatorLink

    class Console(BaseOperatorLink):
        name = "Console"

        def get_link(self, operator: object, *, ti_key: object) -> str:
            return "https://console.example.com"

    class Listed(EmptyOperator):
        operator_extra_links = (Console(),)

    class ByProperty(EmptyOperator):
        @property
        def operator_extra_links(self) -> list[BaseOperatorLink]:
            return [Console()]

    ensure_plugins_loaded(load_settings())
    with DAG("own_links"):
        listed = Listed(task_id="l")
        by_property = ByProperty(task_id="p")
    assert link_keys(listed) == {"Console": "_link_Console"}
    assert link_keys(by_property) == {"Console": "_link_Console"}
