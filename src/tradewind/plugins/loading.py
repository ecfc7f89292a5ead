"""Import every ``.py`` file of a plugins folder and collect its ``AirflowPlugin`` subclasses.

A file that fails to import is reported (file, line, error) and skipped: it never stops the caller.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from tradewind.sdk.plugins import AirflowPlugin

log = logging.getLogger("tradewind.plugins")


@dataclass(frozen=True)
class PluginImportError:
    """A plugin file that could not be imported, or a plugin that could not be registered."""

    filename: str
    lineno: int | None
    message: str
    stacktrace: str = ""

    def __str__(self) -> str:
        where = f"{self.filename}:{self.lineno}" if self.lineno else self.filename
        return f"{where}: {self.message}"


@dataclass
class FolderPlugins:
    plugins: list[type[AirflowPlugin]] = field(default_factory=list)
    errors: list[PluginImportError] = field(default_factory=list)


def plugin_files(folder: Path) -> list[Path]:
    """The ``.py`` files under ``folder``, sorted, leaving out hidden folders and ``__pycache__``."""
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*.py")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts)
    )


def import_plugin_folder(folder: Path) -> FolderPlugins:
    """Import each file as a module named after it (as Airflow does) and collect its plugin classes."""
    found = FolderPlugins()
    for path in plugin_files(folder):
        try:
            module = _import_file(path)
        except BaseException as exc:  # plugin code may raise anything, SystemExit included
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = PluginImportError(
                filename=str(path),
                lineno=line_in_file(exc, path),
                message=f"{type(exc).__name__}: {exc}",
                stacktrace=_user_traceback(exc, path),
            )
            log.error(
                "cannot import plugin file %s (line %s); its plugins are not loaded: %s\n%s",
                error.filename,
                error.lineno,
                error.message,
                error.stacktrace.rstrip(),
            )
            found.errors.append(error)
            continue
        for value in list(vars(module).values()):
            if is_plugin_class(value) and value.__module__ == module.__name__:
                found.plugins.append(value)
    return found


def is_plugin_class(value: object) -> bool:
    return inspect.isclass(value) and issubclass(value, AirflowPlugin) and value is not AirflowPlugin


def _import_file(path: Path) -> types.ModuleType:
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _user_traceback(exc: BaseException, path: Path) -> str:
    """The traceback from the plugin file's first frame on (the loader's own frames say nothing)."""
    tb = exc.__traceback__
    while tb is not None and Path(tb.tb_frame.f_code.co_filename) != path:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def line_in_file(exc: BaseException, path: Path) -> int | None:
    """The line of ``path`` the error happened at (a SyntaxError's own line, else the deepest frame)."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line
