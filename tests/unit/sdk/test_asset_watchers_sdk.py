"""AssetWatcher and the file triggers asset watchers use (DirectoryFileDeleteTrigger, FileDeleteTrigger)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tradewind.sdk.assets import Asset, AssetWatcher
from tradewind.sdk.errors import DagDefinitionError
from tradewind.sdk.triggers.base import TriggerEvent
from tradewind.sdk.triggers.file import DirectoryFileDeleteTrigger, FileDeleteTrigger, FileTrigger
from tradewind.triggerer.trigger_runner import build_trigger


def test_a_watcher_needs_an_event_trigger_with_json_arguments() -> None:
    with pytest.raises(DagDefinitionError, match="BaseEventTrigger"):
        AssetWatcher(name="w", trigger=FileTrigger(filepath="/tmp/x"))
    with pytest.raises(DagDefinitionError, match="AssetWatcher"):
        Asset("a", watchers=["not a watcher"])
    watcher = AssetWatcher(name="w", trigger=FileDeleteTrigger(filepath="/tmp/x", poke_interval=1))
    assert watcher == AssetWatcher(name="w", trigger=FileDeleteTrigger(filepath="/tmp/x", poke_interval=1))
    rebuilt = build_trigger(watcher.classpath, watcher.kwargs)
    assert isinstance(rebuilt, FileDeleteTrigger) and rebuilt.serialize() == watcher.trigger.serialize()


async def _first(trigger: DirectoryFileDeleteTrigger) -> TriggerEvent:
    return await anext(trigger.run())


def test_directory_file_delete_trigger_takes_its_own_file_only(tmp_path: Path) -> None:
    folder = tmp_path / "flags"  # missing at first: waited for
    trigger = DirectoryFileDeleteTrigger(directory=str(folder), filename="us.flag", poke_interval=0.01)
    rebuilt = build_trigger(*trigger.serialize())
    assert rebuilt.serialize() == trigger.serialize()

    async def scenario() -> TriggerEvent:
        waiting = asyncio.ensure_future(_first(trigger))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        folder.mkdir()
        (folder / "eu.flag").touch()
        await asyncio.sleep(0.05)
        assert not waiting.done()  # another watcher's file
        (folder / "us.flag").touch()
        return await asyncio.wait_for(waiting, timeout=5)

    event = asyncio.run(scenario())
    assert event == TriggerEvent({"filepath": str(folder / "us.flag")})
    assert sorted(p.name for p in folder.iterdir()) == ["eu.flag"]
    with pytest.raises(ValueError):
        DirectoryFileDeleteTrigger(directory=str(folder), filename="a/b")
