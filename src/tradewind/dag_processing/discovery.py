"""Which files of the DAG folder (and of the bundled examples) are DAG files to parse."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from tradewind.config.settings import Settings
from tradewind.sdk.loading import might_contain_dag

IGNORE_FILE_NAME = ".tradewindignore"
#: Airflow's ignore file, read too (before Tradewind's), with Airflow 3's default glob syntax.
AIRFLOW_IGNORE_FILE_NAME = ".airflowignore"
#: Folders that never hold DAG files, skipped without reading an ignore file.
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".venv", "node_modules"})


@dataclass(frozen=True, slots=True)
class DagFileRef:
    """One DAG file found by discovery.

    ``relative_fileloc`` is relative to the DAG folder for the user's files. Bundled examples live outside
    it, so theirs is the absolute path: ``dags_folder / relative_fileloc`` finds the file either way.
    """

    path: Path
    relative_fileloc: str

    @property
    def fileloc(self) -> str:
        return str(self.path)

    @property
    def root(self) -> Path:
        """The folder whose modules the file may import (the DAG folder, for the user's files)."""
        if os.path.isabs(self.relative_fileloc):
            return self.path.parent
        root = self.path
        for _ in Path(self.relative_fileloc).parts:
            root = root.parent
        return root


def example_dags_folder() -> Path:
    """The example DAGs shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "example_dags"


def list_dag_files(settings: Settings) -> list[DagFileRef]:
    """Every DAG file to parse, in a stable order: the DAG folder first, then the examples when enabled."""
    dags_folder = Path(os.path.abspath(settings.dags_folder))
    refs = [
        DagFileRef(path, path.relative_to(dags_folder).as_posix()) for path in find_dag_files(dags_folder)
    ]
    if settings.core.load_examples:
        refs.extend(DagFileRef(path, str(path)) for path in find_dag_files(example_dags_folder()))
    return refs


def find_dag_files(root: Path) -> list[Path]:
    """The ``.py`` files under ``root`` that are not ignored and look like DAG files, sorted by path."""
    root = Path(os.path.abspath(root))
    if root.is_file():
        return [root] if root.suffix == ".py" and might_contain_dag(root) else []
    if not root.is_dir():
        return []
    return sorted(path for path in _walk(root) if might_contain_dag(path))


@dataclass(frozen=True, slots=True)
class _IgnoreRules:
    """The patterns of one `.tradewindignore`, matched against paths relative to its folder."""

    base: Path
    spec: pathspec.GitIgnoreSpec

    def verdict(self, path: Path, *, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a ``!`` pattern, None: no pattern matched."""
        relative = path.relative_to(self.base).as_posix()
        # A trailing slash lets directory-only patterns such as ``build/`` match the folder itself.
        return self.spec.check_file(relative + "/" if is_dir else relative).include


def _ignored(path: Path, rules: tuple[_IgnoreRules, ...], *, is_dir: bool) -> bool:
    # As in git, the deepest ignore file with a matching pattern decides.
    for rule in reversed(rules):
        verdict = rule.verdict(path, is_dir=is_dir)
        if verdict is not None:
            return verdict
    return False


def _read_ignore_file(folder: Path) -> _IgnoreRules | None:
    """The patterns of the folder's `.airflowignore` and `.tradewindignore` (gitignore syntax; the
    Tradewind file's patterns come last, so its ``!`` lines can re-include what Airflow's excluded)."""
    lines: list[str] = []
    for name in (AIRFLOW_IGNORE_FILE_NAME, IGNORE_FILE_NAME):
        try:
            lines += (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
    if not lines:
        return None
    return _IgnoreRules(folder, pathspec.GitIgnoreSpec.from_lines(lines))


def _walk(root: Path) -> Iterator[Path]:
    # Each folder inherits the rules of its parents; symlinked folders are followed once (no loops).
    seen_dirs: set[tuple[int, int]] = set()
    stack: list[tuple[Path, tuple[_IgnoreRules, ...]]] = [(root, ())]
    while stack:
        folder, inherited = stack.pop()
        try:
            stat = folder.stat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        own = _read_ignore_file(folder)
        rules = (*inherited, own) if own is not None else inherited
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if entry.name in _SKIPPED_DIRS or _ignored(path, rules, is_dir=True):
                    continue
                stack.append((path, rules))
            elif entry.name.endswith(".py") and not _ignored(path, rules, is_dir=False):
                try:
                    if entry.is_file():
                        yield path
                except OSError:
                    continue
