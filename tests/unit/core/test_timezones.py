"""The UI's time zones: which names are accepted, how the machine's zone is found, how a time is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from tradewind.core.timezones import format_in_zone, is_zone_name, shown_zone, system_zone_name, zone_names


def test_only_iana_names_are_zones() -> None:
    assert is_zone_name("Europe/Paris") and is_zone_name("UTC")
    for bad in ("Mars/Olympus", "", " Europe/Paris", "../etc/passwd", "/etc/localtime"):
        assert not is_zone_name(bad), bad
    names = zone_names()
    assert names[0] == "UTC" and "Europe/Paris" in names and "Asia/Tokyo" in names


def test_times_are_shown_in_the_zone_with_its_name() -> None:
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert format_in_zone(winter, "UTC") == "2026-01-15 12:00:00 UTC"
    assert format_in_zone(winter, "Europe/Paris") == "2026-01-15 13:00:00 CET"
    assert format_in_zone(winter + timedelta(days=180), "Europe/Paris") == "2026-07-14 14:00:00 CEST"
    # Naive values are UTC (SQLite returns them so); zones without an abbreviation name their offset.
    assert format_in_zone(datetime(2026, 1, 15, 12, 0), "Asia/Kolkata") == "2026-01-15 17:30:00 IST"
    assert format_in_zone(winter, "America/Sao_Paulo") == "2026-01-15 09:00:00 UTC-03"
    assert format_in_zone(winter.astimezone(timezone(timedelta(hours=2))), "UTC") == "2026-01-15 12:00:00 UTC"
    assert format_in_zone(None, "UTC") == ""


def test_the_machines_zone_comes_from_tz_then_localtime(tmp_path: Path) -> None:
    zoneinfo = tmp_path / "usr/share/zoneinfo/Europe"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "Berlin").write_bytes(b"TZif")
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "localtime").symlink_to(zoneinfo / "Berlin")
    assert system_zone_name({"TZ": "Asia/Tokyo"}, etc / "localtime") == "Asia/Tokyo"
    assert system_zone_name({"TZ": ":America/Chicago"}, etc / "localtime") == "America/Chicago"
    assert system_zone_name({}, etc / "localtime") == "Europe/Berlin"
    (etc / "localtime").unlink()
    (etc / "timezone").write_text("Africa/Nairobi\n")
    assert system_zone_name({}, etc / "localtime") == "Africa/Nairobi"
    (etc / "timezone").unlink()
    assert system_zone_name({"TZ": "nowhere"}, etc / "localtime") == "UTC"


def test_a_users_choice_wins_while_it_is_a_known_zone() -> None:
    assert shown_zone("Asia/Tokyo", "Europe/Paris") == "Asia/Tokyo"
    assert shown_zone(None, "Europe/Paris") == "Europe/Paris"
    assert shown_zone("Gone/Zone", "UTC") == "UTC"
