"""The error a DAG file gets for an Airflow name Tradewind does not serve, placed at the user's import line."""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

from tradewind.sdk.errors import DagImportError

_TRADEWIND_DIR = str(Path(__file__).resolve().parents[2])


class AirflowNameNotSupported(DagImportError, ImportError):
    """An ``airflow`` module or name with no Tradewind counterpart (yet). Also an ImportError, so
    ``try: import ... except ImportError`` in user code keeps working."""

    def __init__(self, airflow_name: str, *, reason: str, filename: str, lineno: int | None) -> None:
        where = f"{filename}:{lineno}" if lineno else filename or "an unknown file"
        super().__init__(
            f"{airflow_name} is {reason} (imported at {where})", filename=filename, lineno=lineno
        )
        self.airflow_name = airflow_name
        self.name = airflow_name.rpartition(".")[0] if "." in airflow_name else airflow_name


def not_supported(airflow_name: str, *, later: str | None = None) -> AirflowNameNotSupported:
    """The error for ``airflow_name``, located at the first frame of user code on the current stack."""
    reason = (
        f"not supported by Tradewind yet ({later} come in a later release)"
        if later
        else "not supported by Tradewind"
    )
    filename, lineno = user_site()
    return AirflowNameNotSupported(_requested(airflow_name), reason=reason, filename=filename, lineno=lineno)


def being_imported(module: str) -> bool:
    """Whether an import statement (or ``importlib.import_module``) is loading ``module`` or a submodule of it,
    rather than a probe such as ``importlib.util.find_spec``, which expects None for a missing module."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_find_and_load":
            name = frame.f_locals.get("name")
            if isinstance(name, str) and (name == module or name.startswith(module + ".")):
                return True
        frame = frame.f_back
    return False


def _requested(airflow_name: str) -> str:
    """The module the user's import statement named, when ``airflow_name`` is one of its parents: the import
    system looks parents up first, so ``airflow.providers.amazon`` fails for ``...amazon.aws.hooks.s3``."""
    longest = airflow_name
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "_find_and_load":
            name = frame.f_locals.get("name")
            if isinstance(name, str) and name.startswith(airflow_name + ".") and len(name) > len(longest):
                longest = name
        frame = frame.f_back
    return longest


def user_site() -> tuple[str, int | None]:
    """File and line of the innermost frame that is neither Tradewind's nor the import system's."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_machinery(filename):
            return filename, frame.f_lineno
        frame = frame.f_back
    return "", None


def _is_machinery(filename: str) -> bool:
    if filename.startswith("<frozen importlib"):
        return True
    if filename.startswith(_TRADEWIND_DIR) and "example_dags" not in filename:
        return True
    return Path(filename).parent.name == "importlib"
