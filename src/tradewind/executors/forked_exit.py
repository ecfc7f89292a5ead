"""How a forked try process leaves: its buffered output flushed, then ``os._exit`` with the try's code, so none
of the parent's clean-up (atexit handlers, finalizers of inherited objects) runs in the child."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn


def leave_forked_child(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
