"""The services that write the metadata database refuse to start on a schema older than their code, and say
what to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.cli.main import EXIT_USAGE, main


@pytest.mark.parametrize("command", ["scheduler", "triggerer"])
def test_a_service_refuses_an_unmigrated_database(
    command: str, tw_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not at the newest schema" in err and "tradewind db migrate" in err
