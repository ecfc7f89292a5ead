"""Finding the helm and kubectl programs: on PATH, or where scripts/install-helm.sh puts them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tradewind.sdk.errors import NotFoundError

#: Environment variable naming the folder scripts/install-helm.sh installs into (default: .tools/bin).
TOOLS_DIR_ENV = "TRADEWIND_TOOLS_DIR"

_INSTALL_HINTS = {
    "helm": "install it (https://helm.sh/docs/intro/install/), or run `bash scripts/install-helm.sh` in a "
    "Tradewind checkout, which puts helm and kubectl in .tools/bin",
    "kubectl": "install it (https://kubernetes.io/docs/tasks/tools/), or run `bash scripts/install-helm.sh` "
    "in a Tradewind checkout, which puts helm and kubectl in .tools/bin",
}


def tools_dirs() -> list[Path]:
    """Folders searched after PATH: $TRADEWIND_TOOLS_DIR when set, else .tools/bin of the checkout we run
    from (where scripts/install-helm.sh installs by default)."""
    if configured := os.environ.get(TOOLS_DIR_ENV):
        return [Path(configured)]
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file():
        return [checkout / ".tools" / "bin"]
    return []


def find_tool(name: str) -> Path:
    """The path of ``name`` (helm or kubectl), or NotFoundError saying how to install it."""
    found = shutil.which(name)
    if found:
        return Path(found)
    for folder in tools_dirs():
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    searched = ", ".join(str(d) for d in tools_dirs()) or "no tools folder"
    raise NotFoundError(
        f"{name} was not found on PATH nor in {searched}: {_INSTALL_HINTS.get(name, 'install it')}",
        kind="program",
        ident=name,
    )
