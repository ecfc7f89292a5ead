"""Programs the suite drives (helm, kubectl, chromium, kubernetes-validate): without one a test skips on a
developer's machine, but fails under CI (``CI`` set, as ``.ci/run`` sets it), which installs them all."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but an empty, ``0`` or ``false`` value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(message: str) -> NoReturn:
    """Skip the test, or fail it under CI: a tool CI installed and the test cannot find is a broken CI."""
    if in_ci():
        pytest.fail(f"{message}; CI installs it (.ci/run), so missing it fails the test", pytrace=False)
    pytest.skip(message)
