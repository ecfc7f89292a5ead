"""Who performs an action, as the audit log names them."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import Protocol


class Actor(Protocol):
    """The user an action is done for: the webserver's signed-in principal, or the command line's user."""

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class CommandLineUser:
    """The operating-system user running a ``tradewind`` command."""

    username: str

    @classmethod
    def current(cls) -> CommandLineUser:
        """The user running this process; ``uid:<n>`` where the system knows no name for it (some containers
        run as a user with no passwd entry and no LOGNAME/USER)."""
        try:
            return cls(getpass.getuser())
        except (OSError, KeyError):
            return cls(f"uid:{os.getuid()}")
