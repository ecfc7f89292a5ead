"""Who performs an action, as the audit log names them."""

from __future__ import annotations

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
