"""`dags check-airflow`: which Airflow names and operator arguments of DAG files Tradewind does not support.

Files are read with ``ast`` only, never executed. The answer comes from the same table the import finder
serves (``names``) and from the signatures of the Tradewind classes the names map to (importing Tradewind's
own modules is fine; importing the user's file is not).
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradewind.compat.airflow.finder import is_airflow_name, resolve_target
from tradewind.compat.airflow.names import AIRFLOW_NAMES, LATER, served_modules
from tradewind.compat.airflow.unsupported import AirflowNameNotSupported

NOT_SUPPORTED = "not supported by Tradewind"
#: Callables whose keyword arguments all go to a class: their arguments are checked against that class.
_FORWARDS = {"tradewind.sdk.decorators:dag": "tradewind.sdk.dag:DAG"}


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    name: str
    reason: str


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The ``.py`` files named, and those under the folders named, in path order."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
                yield from (Path(root) / f for f in sorted(files) if f.endswith(".py"))
        else:
            yield path


def check_file(path: Path) -> list[Finding]:
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return [Finding(str(path), 0, "", f"cannot read the file: {exc.strerror or exc}")]
    return check_source(source, str(path))


def check_source(source: str, filename: str) -> list[Finding]:
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [Finding(filename, exc.lineno or 0, "", f"syntax error: {exc.msg}")]
    visitor = _Checker(filename)
    visitor.visit(tree)
    return sorted(set(visitor.findings), key=lambda f: (f.line, f.name, f.reason))


def name_problem(airflow_name: str) -> str | None:
    """Why ``airflow_name`` (a module, or ``module.attribute``) is not supported, or None if it is."""
    if airflow_name in LATER:
        return f"{NOT_SUPPORTED} yet ({LATER[airflow_name]} come in a later release)"
    served = served_modules()
    if airflow_name in served:
        return None
    module, _, attribute = airflow_name.rpartition(".")
    if module not in served:
        parent = _first_unserved(airflow_name, served)
        return name_problem(parent) if parent != airflow_name and parent in LATER else NOT_SUPPORTED
    target = AIRFLOW_NAMES.get(module, {}).get(attribute)
    if target is None:
        return NOT_SUPPORTED
    if ":" not in target:  # another module of the table
        return name_problem(target)
    try:
        resolve_target(target, airflow_name)
    except AirflowNameNotSupported:
        return f"{NOT_SUPPORTED} (no Tradewind implementation yet)"
    return None


def _first_unserved(airflow_name: str, served: frozenset[str]) -> str:
    parts = airflow_name.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if prefix not in served:
            return prefix
    return airflow_name


def target_object(airflow_name: str) -> Any:
    module, _, attribute = airflow_name.rpartition(".")
    target = AIRFLOW_NAMES.get(module, {}).get(attribute)
    if target is None or ":" not in target:
        return None
    try:
        return resolve_target(target, airflow_name)
    except AirflowNameNotSupported:
        return None


def accepted_keywords(cls: type) -> set[str] | None:
    """The keyword arguments ``cls(...)`` accepts across its bases' ``__init__``; None when any keyword is."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        try:
            params = inspect.signature(inspect.unwrap(init)).parameters.values()
        except (TypeError, ValueError):
            return None
        kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        names.update(p.name for p in params if p.kind in kinds)
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return names - {"self"}
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.findings: list[Finding] = []
        #: local name -> the Airflow module or ``module.attribute`` it is bound to
        self.bindings: dict[str, str] = {}

    def _report(self, node: ast.AST, airflow_name: str) -> None:
        problem = name_problem(airflow_name)
        if problem is not None:
            self.findings.append(Finding(self.filename, getattr(node, "lineno", 0), airflow_name, problem))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not is_airflow_name(alias.name):
                continue
            self._report(node, alias.name)
            if alias.asname:
                self.bindings[alias.asname] = alias.name
            else:
                self.bindings[alias.name.partition(".")[0]] = alias.name.partition(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or not is_airflow_name(module):
            return
        if module not in served_modules():
            self._report(node, module)
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            airflow_name = f"{module}.{alias.name}"
            self._report(node, airflow_name)
            self.bindings[alias.asname or alias.name] = airflow_name

    def visit_Attribute(self, node: ast.Attribute) -> None:
        airflow_name = self._dotted(node)
        if airflow_name is None:
            self.generic_visit(node)
            return
        self._report(node, self._checked_prefix(airflow_name))

    def visit_Call(self, node: ast.Call) -> None:
        airflow_name = self._dotted(node.func)
        if airflow_name is not None:
            self._check_arguments(node, airflow_name)
        self.generic_visit(node)

    def _dotted(self, node: ast.expr) -> str | None:
        """The Airflow name an expression such as ``airflow.operators.bash.BashOperator`` stands for."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.bindings:
            return None
        return ".".join([self.bindings[node.id], *reversed(parts)])

    @staticmethod
    def _checked_prefix(airflow_name: str) -> str:
        """Up to the first part that is not a module: ``airflow.models.DAG.foo`` is about ``airflow.models.DAG``."""
        served = served_modules()
        parts = airflow_name.split(".")
        for i in range(1, len(parts) + 1):
            if ".".join(parts[:i]) not in served:
                return ".".join(parts[:i])
        return airflow_name

    def _check_arguments(self, node: ast.Call, airflow_name: str) -> None:
        checked = self._checked_prefix(airflow_name)
        obj = target_object(checked)
        module, _, attribute = checked.rpartition(".")
        forward = _FORWARDS.get(AIRFLOW_NAMES.get(module, {}).get(attribute, ""))
        if forward is not None:
            obj = resolve_target(forward, checked)
        if not inspect.isclass(obj):
            return
        accepted = accepted_keywords(obj)
        if accepted is None:
            return
        for keyword in node.keywords:
            if keyword.arg is not None and keyword.arg not in accepted:
                self.findings.append(
                    Finding(
                        self.filename,
                        keyword.value.lineno,
                        f"{airflow_name.rpartition('.')[2]}({keyword.arg}=...)",
                        f"argument not supported by Tradewind's {obj.__name__}",
                    )
                )


def check_paths(paths: Sequence[Path]) -> tuple[int, list[Finding]]:
    """How many files were checked and what was found in them."""
    files = list(python_files(paths))
    findings = [finding for path in files for finding in check_file(path)]
    return len(files), findings
