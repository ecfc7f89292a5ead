"""Which files of the DAG folder (and of the bundled examples) are DAG files to parse, with the size and
mtime the listing saw (so an unchanged folder is checked with one walk and no reads)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from tradewind.config.settings import Settings
from tradewind.dag_processing.folder_state import SETTLE_SECONDS
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
    #: ``st_mtime`` when the file was listed (None: not known, stat it).
    mtime: float | None = field(default=None, compare=False)
    #: The absolute path as text (the key of everything stored about the file).
    fileloc: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fileloc", str(self.path))

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


class CandidateCache:
    """What the last listing found at each path, for the mtime and size the file had then: a listing reads
    only the files that are new or changed since (to see whether they look like DAG files), and reuses the
    others' ``DagFileRef``."""

    def __init__(self) -> None:
        #: path -> (mtime_ns, size, ref or None when not a DAG file); only verdicts read well after the
        #: file's last change are kept (a rewrite in the same timestamp tick would otherwise go unseen).
        self._seen: dict[str, tuple[int, int, DagFileRef | None]] = {}

    def ref(self, path: str, stat: os.stat_result, relative_fileloc: str) -> DagFileRef | None:
        """The file's ref, or None when it does not look like a DAG file."""
        key = (stat.st_mtime_ns, stat.st_size)
        seen = self._seen.get(path)
        if seen is not None and seen[:2] == key:
            ref = seen[2]
            if ref is None or ref.relative_fileloc == relative_fileloc:
                return ref
        read_at = time.time()
        ref = (
            DagFileRef(Path(path), relative_fileloc, stat.st_mtime) if might_contain_dag(Path(path)) else None
        )
        if read_at - stat.st_mtime > SETTLE_SECONDS:
            self._seen[path] = (*key, ref)
        return ref

    def keep_only(self, paths: set[str]) -> None:
        """Forget the files not listed."""
        for path in [p for p in self._seen if p not in paths]:
            del self._seen[path]


def list_dag_files(settings: Settings, cache: CandidateCache | None = None) -> list[DagFileRef]:
    """Every DAG file to parse, in a stable order: the DAG folder first, then the examples when enabled.

    ``cache`` (kept by the caller from one listing to the next) spares reading unchanged files again."""
    cache = cache if cache is not None else CandidateCache()
    listed: set[str] = set()
    refs = _scan(os.path.abspath(settings.dags_folder), cache, listed, relative=True)
    if settings.core.load_examples:
        refs.extend(_scan(str(example_dags_folder()), cache, listed, relative=False))
    cache.keep_only(listed)
    return refs


def find_dag_files(root: Path) -> list[Path]:
    """The ``.py`` files under ``root`` that are not ignored and look like DAG files, sorted by path."""
    return [ref.path for ref in _scan(os.path.abspath(root), CandidateCache(), set(), relative=False)]


def _scan(root: str, cache: CandidateCache, listed: set[str], *, relative: bool) -> list[DagFileRef]:
    """The DAG files under ``root`` (or ``root`` itself, a file), sorted by path; ``listed`` gets every
    ``.py`` file seen."""
    try:
        stat = os.stat(root)
    except OSError:
        return []
    if not os.path.isdir(root):
        files = [(root, stat)] if root.endswith(".py") else []
    else:
        files = list(_walk(Path(root)))
    prefix_length = len(os.path.join(root, ""))
    refs = []
    for path, file_stat in files:
        listed.add(path)
        relative_fileloc = path[prefix_length:].replace(os.sep, "/") if relative else path
        ref = cache.ref(path, file_stat, relative_fileloc)
        if ref is not None:
            refs.append(ref)
    # By path components, as Paths sort ("a/b.py" before "a-b/c.py"): the separator sorts before any character.
    refs.sort(key=lambda ref: ref.fileloc.replace(os.sep, "\0"))
    return refs


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


def _walk(root: Path) -> Iterator[tuple[str, os.stat_result]]:
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
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                path = Path(entry.path)
                if entry.name in _SKIPPED_DIRS or _ignored(path, rules, is_dir=True):
                    continue
                stack.append((path, rules))
            elif entry.name.endswith(".py") and not (
                rules and _ignored(Path(entry.path), rules, is_dir=False)
            ):
                try:
                    if entry.is_file():
                        yield entry.path, entry.stat()
                except OSError:
                    continue
