"""Loading DAG files: DAGs found (bound or not), errors with file and line, private module names."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from tradewind.sdk.loading import LoadResult, load_dags_from_file, might_contain_dag, module_name_for


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip())
    return path


def load(folder: Path, name: str, source: str) -> LoadResult:
    return load_dags_from_file(write(folder, name, source))


def test_dags_from_globals_with_blocks_and_dag_calls(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "many.py",
        """
        from tradewind import DAG, dag, task
        from tradewind.sdk.operators.empty import EmptyOperator

        bound = DAG("bound")
        EmptyOperator(task_id="t", dag=bound)

        with DAG("unbound_with"):
            EmptyOperator(task_id="t")

        @dag
        def decorated():
            EmptyOperator(task_id="t")

        decorated()

        def factory(n):
            with DAG(f"made_{n}") as d:
                EmptyOperator(task_id="t")
            return d

        for n in range(2):
            factory(n)
        """,
    )
    assert result.errors == []
    assert sorted(d.dag_id for d in result.dags) == ["bound", "decorated", "made_0", "made_1", "unbound_with"]
    assert all(d.fileloc == str(tmp_path / "many.py") for d in result.dags)


def test_a_syntax_error_reports_its_line(tmp_path: Path) -> None:
    result = load(tmp_path, "broken.py", "from tradewind import DAG\n\nx = (\n")
    assert result.dags == []
    [error] = result.errors
    assert error.filename == str(tmp_path / "broken.py")
    assert error.lineno == 3
    assert str(error).startswith("SyntaxError: ")


def test_an_exception_reports_the_deepest_line_in_the_file(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "raises.py",
        """
        from tradewind import DAG

        def helper():
            return {}["missing"]

        helper()
        """,
    )
    [error] = result.errors
    assert error.lineno == 4
    assert str(error) == "KeyError: 'missing'"


def test_a_missing_import_is_an_error(tmp_path: Path) -> None:
    [error] = load(tmp_path, "imp.py", "import tradewind\nimport not_a_module_anywhere\n").errors
    assert error.lineno == 2 and str(error) == "ModuleNotFoundError: No module named 'not_a_module_anywhere'"


def test_sys_exit_in_a_dag_file_is_an_error(tmp_path: Path) -> None:
    [error] = load(tmp_path, "exits.py", "import sys\nsys.exit(3)\n").errors
    assert error.lineno == 2 and str(error) == "SystemExit: 3"


def test_definition_errors_point_at_the_line(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "dup.py",
        """
        from tradewind import DAG, EmptyOperator

        with DAG("d"):
            EmptyOperator(task_id="x")
            EmptyOperator(task_id="x")
        """,
    )
    [error] = result.errors
    assert error.lineno == 5
    assert str(error).startswith("DuplicateTaskIdError: DAG 'd': task id 'x' is used twice")


def test_a_cycle_drops_that_dag_only(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "cycle.py",
        """
        from tradewind import DAG, EmptyOperator

        with DAG("good"):
            EmptyOperator(task_id="a")

        with DAG("looping"):
            a = EmptyOperator(task_id="a")
            b = EmptyOperator(task_id="b")
            a >> b >> a
        """,
    )
    assert [d.dag_id for d in result.dags] == ["good"]
    [error] = result.errors
    assert error.lineno == 6
    assert "CycleError: DAG 'looping' has a cycle" in str(error)


def test_a_duplicate_dag_id_in_one_file_is_an_error(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "twice.py",
        """
        from tradewind import DAG

        first = DAG("same")
        second = DAG("same")
        """,
    )
    assert [d.dag_id for d in result.dags] == ["same"]
    assert result.dags[0] is not None
    [error] = result.errors
    assert error.lineno == 4
    assert "DAG id 'same' is defined more than once in twice.py (first defined at line 3)" in str(error)


def test_the_module_gets_a_private_name(tmp_path: Path) -> None:
    path = write(tmp_path, "private_mod.py", "from tradewind import DAG\nd = DAG('p')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        result = load_dags_from_file(path)
        name = module_name_for(path)
        assert name.startswith("unusual_prefix_") and name.endswith("_private_mod")
        assert name in sys.modules and "private_mod" not in sys.modules
        assert result.dags[0] is sys.modules[name].d
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module_name_for(path), None)


def test_a_failed_import_leaves_no_module_behind(tmp_path: Path) -> None:
    path = write(tmp_path, "fails.py", "raise RuntimeError('boom')\n")
    result = load_dags_from_file(path)
    assert str(result.errors[0]) == "RuntimeError: boom"
    assert module_name_for(path) not in sys.modules


def test_dags_folder_modules_are_importable_and_templates_beside_the_file_found(tmp_path: Path) -> None:
    write(tmp_path, "shared_helpers_for_test.py", "GREETING = 'hi'\n")
    (tmp_path / "query.sql").write_text("select {{ params.n }}")
    path = write(
        tmp_path,
        "uses_helper.py",
        """
        from tradewind import DAG
        from shared_helpers_for_test import GREETING
        from tradewind.sdk.baseoperator import BaseOperator

        class SqlOperator(BaseOperator):
            template_fields = ("sql",)
            template_ext = (".sql",)
            def __init__(self, *, sql, **kwargs):
                super().__init__(**kwargs)
                self.sql = sql

        with DAG(GREETING, params={"n": 7}) as d:
            SqlOperator(task_id="q", sql="query.sql")
        """,
    )
    try:
        result = load_dags_from_file(path, dags_folder=tmp_path)
        assert [d.dag_id for d in result.dags] == ["hi"]
        env = result.dags[0].get_template_env()
        assert env.get_template("query.sql").render(params={"n": 7}) == "select 7"
    finally:
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
        sys.modules.pop("shared_helpers_for_test", None)
        importlib.invalidate_caches()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"from tradewind import DAG", True),
        (b"FROM TRADEWIND IMPORT dag", True),
        (b"import tradewind", False),
        (b"dag = 1", False),
        (b"from airflow.sdk import DAG", True),
        (b"FROM AIRFLOW IMPORT Dag", True),
        (b"import airflow", False),
    ],
)
def test_might_contain_dag_needs_both_words(tmp_path: Path, content: bytes, expected: bool) -> None:
    path = tmp_path / "f.py"
    path.write_bytes(content)
    assert might_contain_dag(path) is expected
