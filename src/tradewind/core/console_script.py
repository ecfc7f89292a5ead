"""Where the ``tradewind`` console script is, for the parts that start it as a process (the LocalExecutor's
subprocess mode, Celery workers, the DAG processor's callback runs)."""

from __future__ import annotations

import os
import shutil
import sys


def tradewind_executable() -> str:
    """On PATH, else next to this interpreter (an unactivated venv), else the bare name."""
    found = shutil.which("tradewind")
    if found:
        return found
    candidate = os.path.join(os.path.dirname(sys.executable), "tradewind")
    return candidate if os.path.exists(candidate) else "tradewind"
