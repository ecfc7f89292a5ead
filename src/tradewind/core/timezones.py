"""Time zones the UI shows times in: checking IANA names, the server's own zone, and one display format."""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_NAME = "UTC"
#: ``[webserver] default_ui_timezone = "system"``: the zone of the machine the webserver runs on.
SYSTEM = "system"
DISPLAY_FORMAT = "%Y-%m-%d %H:%M:%S"


@cache
def is_zone_name(name: str) -> bool:
    """Whether ``name`` is an IANA zone this Python knows (``Europe/Paris``, ``UTC``)."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@cache
def zone(name: str) -> tzinfo:
    """The tzinfo of an IANA name already checked with :func:`is_zone_name` (UTC for ``UTC``)."""
    return UTC if name in (UTC_NAME, "Etc/UTC") else ZoneInfo(name)


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted, UTC first: the choices of the UI's time-zone picker."""
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/")))
    return (UTC_NAME, *names)


def system_zone_name(environ: dict[str, str] | None = None, localtime: Path = Path("/etc/localtime")) -> str:
    """The IANA name of the machine's zone: ``$TZ``, else where ``/etc/localtime`` links into a zoneinfo
    folder, else ``/etc/timezone``; UTC when none of them names a known zone."""
    env = os.environ if environ is None else environ
    given = env.get("TZ", "").removeprefix(":")
    if is_zone_name(given):
        return given
    try:
        target = str(localtime.resolve())
    except OSError:
        target = ""
    _, marker, name = target.partition("zoneinfo/")
    if marker and is_zone_name(name):
        return UTC_NAME if name in ("Etc/UTC", "UCT", "Zulu") else name
    try:
        named = (localtime.parent / "timezone").read_text(encoding="utf-8").strip()
    except OSError:
        named = ""
    return named if is_zone_name(named) and named != "Etc/UTC" else UTC_NAME


@cache
def resolve_zone_name(setting: str) -> str:
    """The zone named by a ``default_ui_timezone`` value: itself, or the machine's for ``system`` (read once
    per process)."""
    return system_zone_name() if setting == SYSTEM else setting


def zone_abbreviation(moment: datetime) -> str:
    """How a time is labelled: ``UTC``, ``CET``, ``EDT``; zones without an abbreviation get ``UTC+05``."""
    label = moment.tzname() or UTC_NAME
    return f"UTC{label}" if label[:1] in "+-" else label


def format_in_zone(value: datetime | None, zone_name: str) -> str:
    """``2026-03-01 13:00:00 CET``: an instant (naive means UTC, as SQLite returns them) in the named zone."""
    if value is None:
        return ""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    local = aware.astimezone(zone(zone_name))
    return f"{local.strftime(DISPLAY_FORMAT)} {zone_abbreviation(local)}"


def shown_zone(chosen: str | None, default_setting: str) -> str:
    """The zone a page is shown in: the user's choice while it is still a known zone, else the default."""
    return chosen if chosen and is_zone_name(chosen) else resolve_zone_name(default_setting)
