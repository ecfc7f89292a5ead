"""The corpus of DAG files in tests/fixtures/dags: locating, copying, and the lines marked as errors."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE_DAGS = Path(__file__).resolve().parents[2] / "fixtures" / "dags"
ERROR_MARK = "# error-line"


def fixture_path(name: str) -> Path:
    return FIXTURE_DAGS / name


def marked_line(name: str) -> int:
    """The line of a corpus file that carries the ``# error-line`` mark (where its error is)."""
    for number, line in enumerate(fixture_path(name).read_text().splitlines(), start=1):
        if ERROR_MARK in line:
            return number
    raise AssertionError(f"{name} has no line marked {ERROR_MARK!r}")


def copy_fixture(name: str, folder: Path, as_name: str | None = None) -> Path:
    """Copy a corpus file into ``folder`` (keeping its relative path unless ``as_name`` is given)."""
    target = folder / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixture_path(name), target)
    return target
