"""`tradewind dags test` of a DAG that is not there says why: the import error of the file that defines it."""

from __future__ import annotations

from pathlib import Path

from tests.unit.cli.console import tradewind


def test_dags_test_names_the_import_error_of_the_dags_file(tw_home: Path) -> None:
    (tw_home / "dags" / "broken.py").write_text(
        "from tradewind import DAG\nimport module_that_is_not_installed_anywhere\nwith DAG('broken_dag'):\n    pass\n"
    )
    (tw_home / "dags" / "also_broken.py").write_text("from tradewind import DAG\nraise RuntimeError('unrelated file')\n")
    assert tradewind("db", "migrate").returncode == 0

    result = tradewind("dags", "test", "broken_dag")

    assert result.returncode == 1
    error = result.stderr[result.stderr.index("error: DAG") :]  # parse warnings for every file come first
    assert error.startswith("error: DAG 'broken_dag' does not exist: its file failed to import")
    assert f"{tw_home / 'dags' / 'broken.py'}:2: ModuleNotFoundError" in error
    assert "module_that_is_not_installed_anywhere" in error
    assert "unrelated file" not in error  # only the file that names the DAG


def test_dags_test_of_an_unknown_dag_lists_the_files_that_failed(tw_home: Path) -> None:
    (tw_home / "dags" / "also_broken.py").write_text("from tradewind import DAG\nraise RuntimeError('unrelated file')\n")
    assert tradewind("db", "migrate").returncode == 0

    result = tradewind("dags", "test", "no_such_dag")

    assert result.returncode == 1
    assert "DAG 'no_such_dag' does not exist; 1 DAG file(s) failed to import" in result.stderr
    assert "also_broken.py:2: RuntimeError: unrelated file" in result.stderr
