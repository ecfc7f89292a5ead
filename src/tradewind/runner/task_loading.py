"""Finding a task's DAG file, importing it, and turning a mapped task into the operator of one map index."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tradewind.runner.imported_dag_files import imported
from tradewind.sdk.dag import DAG
from tradewind.sdk.errors import DagImportError, NotFoundError, TaskExecutionError
from tradewind.sdk.loading import load_dags_from_file, might_contain_dag
from tradewind.sdk.mapped import MappedOperator, resolve_expand_args
from tradewind.sdk.runtime import XCOM_ABSENT


def dag_file_for_run(dags_folder: Path, *, subdir: str, relative_fileloc: str, fileloc: str) -> Path:
    """The DAG file to import: ``--subdir`` under the DAG folder, else the stored relative location under
    this machine's DAG folder (a worker may mount it elsewhere), else the stored absolute location."""
    candidates = [dags_folder / p for p in (subdir, relative_fileloc) if p]
    if fileloc:
        candidates.append(Path(fileloc))
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates) or "(no location stored)"
    raise DagImportError(
        f"DAG file not found; looked at {tried}", filename=str(candidates[0] if candidates else "")
    )


def load_dag(path: Path, dag_id: str, *, dags_folder: Path | None) -> DAG:
    """Import ``path`` and return DAG ``dag_id``; DagImportError (file and line) if the file fails to import
    or does not define it. A file a warm parent imported ahead (and unchanged since) is not imported again."""
    result = imported(path) or load_dags_from_file(path, dags_folder=dags_folder)
    for dag in result.dags:
        if dag.dag_id == dag_id:
            return dag
    if result.errors:
        first = result.errors[0]
        where = f"{first.filename}:{first.lineno}" if first.lineno else first.filename
        raise DagImportError(
            f"DAG file {where} failed to import: {first}", filename=first.filename, lineno=first.lineno
        )
    found = ", ".join(sorted(d.dag_id for d in result.dags)) or "none"
    raise DagImportError(
        f"DAG file {path} does not define DAG {dag_id!r} (it defines: {found})", filename=str(path)
    )


def find_dag_file(dags_folder: Path, dag_id: str) -> Path:
    """For `tasks test` without a database: the file of the DAG folder that defines ``dag_id``.

    Only files mentioning the dag id (and passing the DAG processor's safe mode) are
    imported, so a large folder is not imported whole.
    """
    needle = dag_id.encode()
    for path in _python_files(dags_folder):
        try:
            if needle not in path.read_bytes() or not might_contain_dag(path):
                continue
        except OSError:
            continue
        result = load_dags_from_file(path, dags_folder=dags_folder)
        if any(d.dag_id == dag_id for d in result.dags):
            return path
    raise NotFoundError(
        f"no file in the DAG folder {dags_folder} defines DAG {dag_id!r}", kind="dag", ident=dag_id
    )


def _python_files(folder: Path) -> Iterable[Path]:
    if folder.is_file():
        yield folder
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(root) / name


def concrete_task(task: Any, map_index: int, xcom_pull: Callable[[str, str], Any]) -> Any:
    """The operator to run: ``task`` itself (a task of a mapped task group reads its group's values for
    ``map_index`` when rendered), or for a mapped task the operator of ``map_index`` with its expand
    arguments resolved (upstream XComs through ``xcom_pull(task_id, key)``)."""
    if not isinstance(task, MappedOperator):
        in_mapped_group = task.closest_mapped_group() is not None
        if map_index >= 0 and not in_mapped_group:
            raise TaskExecutionError(f"task {task.task_id!r} is not mapped; it has no map index {map_index}")
        if map_index < 0 and in_mapped_group:
            raise TaskExecutionError(f"task {task.task_id!r} is in a mapped task group; run it with --map-index")
        return task
    if map_index < 0:
        raise TaskExecutionError(f"task {task.task_id!r} is mapped; run it with --map-index")

    def pull(task_id: str, key: str) -> Any:
        value = xcom_pull(task_id, key)
        if value is XCOM_ABSENT:
            raise TaskExecutionError(
                f"task {task.task_id!r}: the XCom {key!r} of upstream task {task_id!r} "
                "it maps over does not exist"
            )
        return value

    return task.unmap(resolve_expand_args(task, map_index, pull))
