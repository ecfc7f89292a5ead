"""Every command, flag and positional argument of `tradewind` says what it is for in `--help`."""

from __future__ import annotations

import argparse

import pytest

from tradewind.cli.main import GROUPS, build_parser


def _undocumented(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                if not helps.get(name):
                    missing.append(f"{path} {name} (the command itself)")
                missing += _undocumented(sub, f"{path} {name}")
            continue
        if not action.help:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_argument_has_help_text(group: str) -> None:
    parser = build_parser(group)
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert _undocumented(commands.choices[group], f"tradewind {group}") == []
