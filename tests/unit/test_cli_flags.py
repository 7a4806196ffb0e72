"""Every flag of the `fluidpy` command says its default, and the unit of a duration."""

from __future__ import annotations

import argparse

import pytest

from fluidpy_cli.main import build_parser
from fluidpy_cli.manager import duration

WITHOUT_A_VALUE = (argparse._HelpAction, argparse._VersionAction)


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("fluidpy",)
) -> list[tuple[str, argparse.ArgumentParser]]:
    """The parser of every command and subcommand, named as typed."""
    found = [(" ".join(path), parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += commands(sub, (*path, name))
    return found


def flags() -> list[tuple[str, argparse.Action]]:
    return [
        (f"{command} {action.option_strings[-1]}", action)
        for command, parser in commands(build_parser())
        for action in parser._actions
        if action.option_strings and not isinstance(action, WITHOUT_A_VALUE)
    ]


@pytest.mark.parametrize(("flag", "action"), flags(), ids=[flag for flag, _ in flags()])
def test_the_help_of_every_flag_states_its_default(flag: str, action: argparse.Action) -> None:
    assert action.help and "default" in action.help, flag


@pytest.mark.parametrize(
    ("flag", "action"),
    [(flag, action) for flag, action in flags() if action.type is duration],
    ids=[flag for flag, action in flags() if action.type is duration],
)
def test_the_help_of_a_duration_flag_says_it_is_a_duration(
    flag: str, action: argparse.Action
) -> None:
    assert action.help and "duration" in action.help, flag


def test_version_prints_the_installed_distribution_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--version"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"fluidpy {version('fluidpy')}\n"
