"""Import one DAG file and collect its DAGs, or the errors that stop it (file and line for each).

This runs user code in the calling process; the DAG processor adds the child process and the timeout.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tradewind.sdk.dag import DAG
from tradewind.sdk.definition_context import collecting_dags
from tradewind.sdk.errors import DagImportError, TradewindError

MODULE_PREFIX = "unusual_prefix_"


@dataclass
class LoadResult:
    path: Path
    dags: list[DAG] = field(default_factory=list)
    errors: list[DagImportError] = field(default_factory=list)


def might_contain_dag(path: Path) -> bool:
    """Safe mode, as in Airflow: only files mentioning "dag" and either "tradewind" or "airflow" (any case)
    are imported; files written for Airflow are DAG files too.

    An unreadable file counts as a candidate, so loading it reports the error instead of hiding the file.
    """
    try:
        content = Path(path).read_bytes().lower()
    except OSError:
        return True
    return b"dag" in content and (b"tradewind" in content or b"airflow" in content)


def module_name_for(path: Path) -> str:
    """A module name no ``import`` statement would write, unique per file path."""
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()
    stem = re.sub(r"\W", "_", path.stem)
    return f"{MODULE_PREFIX}{digest}_{stem}"


def _same_file(a: str, b: str) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def error_line(exc: BaseException, path: Path) -> int | None:
    """The line at fault: a SyntaxError's own line, else the deepest traceback frame inside ``path``."""
    if isinstance(exc, SyntaxError) and exc.filename and _same_file(exc.filename, str(path)):
        return exc.lineno
    lineno = None
    for frame, frame_lineno in traceback.walk_tb(exc.__traceback__):
        if _same_file(frame.f_code.co_filename, str(path)):
            lineno = frame_lineno
    return lineno


def import_error(exc: BaseException, path: Path) -> DagImportError:
    return DagImportError(f"{type(exc).__name__}: {exc}", filename=str(path), lineno=error_line(exc, path))


def load_dags_from_file(path: Path, *, dags_folder: Path | None = None) -> LoadResult:
    """Import ``path`` under a private module name and return its valid DAGs and its errors.

    DAGs are found in the module's globals and among those finished by a ``with DAG`` block or an ``@dag``
    call while the file ran, bound to a name or not. ``dags_folder`` is added to ``sys.path`` (once, as
    Airflow does) so DAG files can import modules kept beside them.
    """
    path = Path(os.path.abspath(path))
    if dags_folder is not None and str(dags_folder) not in sys.path:
        sys.path.append(str(dags_folder))
    name = module_name_for(path)
    sys.modules.pop(name, None)
    result = LoadResult(path)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}: not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        with collecting_dags() as collected:
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        result.errors.append(import_error(exc, path))
        return result
    candidates: list[DAG] = list(collected)
    for value in list(vars(module).values()):
        if isinstance(value, DAG) and not any(value is c for c in candidates):
            candidates.append(value)
    _collect_valid(candidates, path, result)
    return result


def _dag_line(dag: DAG, path: Path) -> int | None:
    site = dag.definition_site
    return site.lineno if site is not None and _same_file(site.filename, str(path)) else None


def _collect_valid(candidates: list[DAG], path: Path, result: LoadResult) -> None:
    seen: dict[str, DAG] = {}
    for dag in candidates:
        dag.fileloc = str(path)
        first = seen.get(dag.dag_id)
        if first is not None:
            first_line = _dag_line(first, path)
            where = f" (first defined at line {first_line})" if first_line else ""
            result.errors.append(
                DagImportError(
                    f"DuplicateDagIdError: DAG id {dag.dag_id!r} is defined more than once "
                    f"in {path.name}{where}",
                    filename=str(path),
                    lineno=_dag_line(dag, path),
                )
            )
            continue
        seen[dag.dag_id] = dag
        try:
            dag.validate()
        except TradewindError as exc:
            result.errors.append(
                DagImportError(
                    f"{type(exc).__name__}: {exc}", filename=str(path), lineno=_dag_line(dag, path)
                )
            )
            continue
        result.dags.append(dag)
