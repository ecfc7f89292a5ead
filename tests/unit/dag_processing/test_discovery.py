"""Discovery: which files of the DAG folder the processor parses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tradewind.config.settings import load_settings
from tradewind.dag_processing.discovery import (
    CandidateCache,
    example_dags_folder,
    find_dag_files,
    list_dag_files,
)

DAG_LIKE = "from tradewind import DAG\n"


def _write(folder: Path, relative: str, text: str = DAG_LIKE) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _relative(folder: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in paths]


def test_finds_python_dag_files_recursively_in_path_order(tmp_path: Path) -> None:
    for name in ["b.py", "a.py", "sub/c.py", "sub/deeper/d.py", "z/e.py"]:
        _write(tmp_path, name)
    _write(tmp_path, "notes.txt")
    _write(tmp_path, "dag_like.pyc")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == [
        "a.py",
        "b.py",
        "sub/c.py",
        "sub/deeper/d.py",
        "z/e.py",
    ]


def test_skips_files_that_do_not_look_like_dag_files(tmp_path: Path) -> None:
    _write(tmp_path, "workflow.py")
    _write(tmp_path, "helper.py", "def add(a, b):\n    return a + b\n")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["workflow.py"]


def test_files_written_for_airflow_are_dag_files(tmp_path: Path) -> None:
    _write(tmp_path, "airflow3.py", "from airflow.sdk import DAG\n")
    _write(tmp_path, "airflow2.py", "from Airflow.models.dag import dag\n")
    _write(tmp_path, "not_a_dag.py", "import airflow\n")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["airflow2.py", "airflow3.py"]


def test_skips_pycache_folders(tmp_path: Path) -> None:
    _write(tmp_path, "workflow.py")
    _write(tmp_path, "__pycache__/workflow.py")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["workflow.py"]


def test_tradewindignore_excludes_gitignore_style_patterns(tmp_path: Path) -> None:
    for name in [
        "keep.py",
        "scratch_skip.py",
        "sub/also_skip.py",
        "sub/keep_too.py",
        "build/anything.py",
        "sub/build/anything.py",
        "top_only.py",
        "sub/top_only.py",
    ]:
        _write(tmp_path, name)
    # Unanchored patterns match at any depth; a leading slash anchors to the ignore file's folder.
    _write(
        tmp_path,
        ".tradewindignore",
        "# comments and blank lines are ignored\n\n*_skip.py\nbuild/\n/top_only.py\n",
    )

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["keep.py", "sub/keep_too.py", "sub/top_only.py"]


def test_nested_tradewindignore_is_relative_to_its_folder_and_may_reinclude(tmp_path: Path) -> None:
    for name in ["local.py", "team/local.py", "team/generated_a.py", "team/generated_keep.py", "other/x.py"]:
        _write(tmp_path, name)
    _write(tmp_path, ".tradewindignore", "generated_*.py\n")
    _write(tmp_path, "team/.tradewindignore", "/local.py\n!generated_keep.py\n")

    found = _relative(tmp_path, find_dag_files(tmp_path))
    assert found == ["local.py", "other/x.py", "team/generated_keep.py"]


def test_an_airflow_dag_folder_keeps_its_airflowignore(tmp_path: Path) -> None:
    """`.airflowignore` (Airflow 3's glob syntax) is honoured; `.tradewindignore` beside it may re-include."""
    for name in ["etl.py", "scratch/wip.py", "helpers/common.py", "helpers/keep.py"]:
        _write(tmp_path, name, "from airflow import DAG\n")
    _write(tmp_path, ".airflowignore", "scratch/\nhelpers/*.py\n")
    _write(tmp_path, ".tradewindignore", "!helpers/keep.py\n")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["etl.py", "helpers/keep.py"]


def test_ignored_folder_is_not_entered(tmp_path: Path) -> None:
    _write(tmp_path, "vendor/lib.py")
    _write(tmp_path, "vendor/.tradewindignore", "!lib.py\n")
    _write(tmp_path, ".tradewindignore", "vendor\n")

    assert find_dag_files(tmp_path) == []


def test_symlink_loop_is_followed_once(tmp_path: Path) -> None:
    _write(tmp_path, "sub/a.py")
    os.symlink(tmp_path, tmp_path / "sub" / "loop")

    assert _relative(tmp_path, find_dag_files(tmp_path)) == ["sub/a.py"]


def test_missing_folder_has_no_files(tmp_path: Path) -> None:
    assert find_dag_files(tmp_path / "absent") == []


def test_list_dag_files_relative_to_the_dag_folder_then_examples(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tw_home / "dags", "team/pipeline.py")
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "false")

    refs = list_dag_files(load_settings())

    assert [(r.relative_fileloc, r.fileloc) for r in refs] == [
        ("team/pipeline.py", str(tw_home / "dags" / "team" / "pipeline.py"))
    ]

    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "true")
    refs = list_dag_files(load_settings())

    examples = [r for r in refs if r.path.parent == example_dags_folder()]
    assert refs[0].relative_fileloc == "team/pipeline.py"
    assert {r.path.name for r in examples} >= {"example_bash_operator.py", "example_taskflow.py"}
    # Examples live outside the DAG folder: joining the DAG folder with their relative path finds them.
    assert all((tw_home / "dags" / r.relative_fileloc) == r.path for r in examples)


def test_a_listing_kept_between_passes_follows_edits_that_make_or_unmake_dag_files(
    tw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADEWIND__CORE__LOAD_EXAMPLES", "false")
    settings = load_settings()
    folder = tw_home / "dags"
    plain = _write(folder, "plain.py", "print('no workflow here')\n")
    kept = _write(folder, "kept.py")
    gone = _write(folder, "sub/gone.py")
    cache = CandidateCache()
    assert [r.relative_fileloc for r in list_dag_files(settings, cache)] == ["kept.py", "sub/gone.py"]

    _edit(plain, DAG_LIKE)
    _edit(kept, "print('no longer a DAG file')\n")
    gone.unlink()
    refs = list_dag_files(settings, cache)

    assert [r.relative_fileloc for r in refs] == ["plain.py"]
    assert refs[0].mtime == plain.stat().st_mtime


def _edit(path: Path, text: str) -> None:
    """Rewrite with a later mtime, as a later save would."""
    previous = path.stat().st_mtime
    path.write_text(text)
    os.utime(path, (previous + 5, previous + 5))
