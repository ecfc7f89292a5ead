"""`tradewind pools list|set|delete` in process (``main(argv)``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli.console import tradewind
from tradewind.config.settings import load_settings
from tradewind.store.engine import make_engine
from tradewind.store.migrate import upgrade


@pytest.fixture
def migrated_home(tw_home: Path) -> Path:
    upgrade(make_engine(load_settings().database_url))
    return tw_home


def test_pools_set_list_delete(migrated_home: Path) -> None:
    created = tradewind("pools", "set", "gpu", "4", "GPU machines")
    assert created.returncode == 0, created.stderr
    rows = json.loads(tradewind("pools", "list", "-o", "json").stdout)
    assert rows == [
        {
            "name": "default_pool",
            "slots": 128,
            "occupied": 0,
            "queued": 0,
            "running": 0,
            "open": 128,
            "description": "Default pool",
        },
        {
            "name": "gpu",
            "slots": 4,
            "occupied": 0,
            "queued": 0,
            "running": 0,
            "open": 4,
            "description": "GPU machines",
        },
    ]
    refused = tradewind("pools", "delete", "default_pool")
    assert refused.returncode == 1
    assert "default_pool cannot be deleted" in refused.stderr
    assert tradewind("pools", "delete", "gpu").returncode == 0
    assert "gpu" not in tradewind("pools", "list", "-o", "plain").stdout
    gone = tradewind("pools", "delete", "gpu")
    assert gone.returncode == 1
    assert "'gpu'" in gone.stderr


def test_bad_slots_exit_2(migrated_home: Path) -> None:
    assert tradewind("pools", "set", "gpu", "many", "x").returncode == 2
    negative = tradewind("pools", "set", "gpu", "-3", "x")
    assert negative.returncode == 2
    assert "slots" in negative.stderr


def test_piped_table_prints_whole_values(migrated_home: Path) -> None:
    """`tradewind pools list | grep NAME` finds a long pool name: piped output never cuts a value."""
    name = "pool_with_a_long_name_that_a_narrow_terminal_table_would_cut_" + "x" * 60
    description = "a description long enough to push the table past eighty columns " * 2
    assert tradewind("pools", "set", name, "3", description).returncode == 0
    listed = tradewind("pools", "list")  # stdout is a pipe here
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout
    assert description.strip() in listed.stdout
