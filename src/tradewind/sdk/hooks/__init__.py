"""Hooks: the client of one external system, built from a connection (``BaseHook`` and its subclasses)."""

from tradewind.sdk.hooks.base import BaseHook

__all__ = ["BaseHook"]
