"""What a parsing child that imports several DAG files puts back, or checks, between two files.

A forked child per file gave every file a clean interpreter. A child that parses a run of files keeps that
promise this way, after each file:

- put back: the environment, the working directory, ``sys.path``, a pending ``signal.alarm``, and forget the
  modules the file loaded from its DAG folder (the DAG module itself and helpers kept beside it), so the
  next file imports those afresh, as its own process would, and sees a helper that changed meanwhile;
- check: the names of the authoring API (the ``tradewind`` package, ``tradewind.sdk`` modules and the
  classes ``tradewind`` exports, with their bases) still hold the objects they held when the child started,
  and the file left no thread running. A file that patched them, or left a thread behind, spoils the child:
  it ends after reporting that file, and the next files go to a fresh one.

Each file also runs in a fresh ``contextvars`` context, so a ``with DAG`` left open cannot reach the next
file (see ``parse_child``). What is not covered (patching a third-party library) is written down in
docs/adr/0013-several-dag-files-per-parsing-child.md.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import tradewind
from tradewind.sdk.loading import MODULE_PREFIX

_GUARDED_PACKAGES = ("tradewind.sdk.",)


@dataclass(slots=True)
class FileScope:
    """What one file may change and must not leave behind; ``close`` puts it back."""

    root: str
    environ: dict[str, str]
    cwd: str
    path: list[str]
    modules: frozenset[str]

    @classmethod
    def open(cls, root: Path) -> FileScope:
        return cls(
            root=os.path.join(str(root), ""),
            environ=dict(os.environ),
            cwd=os.getcwd(),
            path=list(sys.path),
            modules=frozenset(sys.modules),
        )

    def close(self) -> None:
        signal.alarm(0)
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        try:
            if os.getcwd() != self.cwd:
                os.chdir(self.cwd)
        except OSError:
            os.chdir(self.cwd)
        if sys.path != self.path:
            sys.path[:] = self.path
        for name in [n for n in sys.modules if n not in self.modules]:
            if self._is_users(name, sys.modules[name]):
                del sys.modules[name]

    def _is_users(self, name: str, module: Any) -> bool:
        if name.startswith(MODULE_PREFIX):
            return True
        filename = getattr(module, "__file__", None)
        return isinstance(filename, str) and os.path.abspath(filename).startswith(self.root)


@dataclass(slots=True)
class ApiFingerprint:
    """The objects the authoring API's names held when the child started (names added later are ignored)."""

    namespaces: list[tuple[dict[str, Any] | Any, tuple[int, ...]]]
    threads: int

    @classmethod
    def take(cls) -> ApiFingerprint:
        spaces: list[dict[str, Any] | Any] = []
        for name, module in list(sys.modules.items()):
            if isinstance(module, ModuleType) and (name == "tradewind" or name.startswith(_GUARDED_PACKAGES)):
                spaces.append(module.__dict__)
        classes: set[type] = set()
        for name in tradewind.__all__:
            value = getattr(tradewind, name, None)
            if isinstance(value, type):
                classes.update(c for c in value.__mro__ if c.__module__.startswith("tradewind"))
        spaces.extend(c.__dict__ for c in classes)
        return cls([(space, _ids(space)) for space in spaces], threading.active_count())

    def holds(self) -> bool:
        """True while every guarded name still holds its object and no extra thread runs."""
        if threading.active_count() > self.threads:
            return False
        return all(_ids(space)[: len(ids)] == ids for space, ids in self.namespaces)


def _ids(space: Any) -> tuple[int, ...]:
    # Dicts keep insertion order: names added later come last, so a prefix comparison ignores them.
    return tuple(map(id, space.values()))
