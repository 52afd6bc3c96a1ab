"""Every command explains itself, and Typer's own usage errors are one line."""

from __future__ import annotations

import click
import pytest
import typer.main

from smsctl.cli.app import app


def _walk(command, path):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, path + [name])


COMMANDS = list(_walk(typer.main.get_command(app), []))


def test_the_tree_has_designs_commands():
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {
        "init",
        "overview",
        "numbers add",
        "numbers list",
        "numbers show",
        "numbers available",
        "numbers unavailable",
        "numbers remove",
        "drips add",
        "drips list",
        "drips pause",
        "drips resume",
        "drips end",
        "config list",
        "config get",
        "config set",
        "logs import",
        "logs history",
    } <= paths


@pytest.mark.parametrize(
    "path, command", COMMANDS, ids=[" ".join(p) or "smsctl" for p, _ in COMMANDS]
)
def test_every_command_and_group_has_help(cli, path, command):
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert (command.help or "").strip(), f"{path} has no help text"
    assert f"Usage: smsctl {' '.join(path)}".rstrip() in result.stdout
    assert command.help.strip().splitlines()[0] in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "path, command",
    [(p, c) for p, c in COMMANDS if not isinstance(c, click.Group)],
    ids=[" ".join(p) for p, c in COMMANDS if not isinstance(c, click.Group)],
)
def test_every_option_and_argument_says_what_it_is(path, command):
    for param in command.params:
        if param.name == "help":
            continue
        assert getattr(param, "help", None), f"{' '.join(path)}: {param.name}"


def test_bare_smsctl_shows_the_groups(cli):
    result = cli()
    assert "Usage: smsctl" in result.output
    for group in ("numbers", "overview", "drips", "config", "logs"):
        assert group in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["init"], "Missing option '--main'. (see 'smsctl init --help')"),
        (
            ["init", "--main"],
            "Option '--main' requires an argument. (see 'smsctl init --help')",
        ),
        (["xyzzy"], "No such command 'xyzzy'. (see 'smsctl --help')"),
        (
            ["numbers", "bogus"],
            "No such command 'bogus'. (see 'smsctl numbers --help')",
        ),
        (
            ["numbers", "add"],
            "Missing argument 'PHONE'. (see 'smsctl numbers add --help')",
        ),
        (
            ["numbers", "list", "extra"],
            "Got unexpected extra argument(s) (extra) "
            "(see 'smsctl numbers list --help')",
        ),
        (
            ["drips", "list", "--format", "yaml"],
            "Invalid value for '--format' / '-f': Value error, 'yaml' is not one of "
            "'table', 'json', 'csv'. (see 'smsctl drips list --help')",
        ),
        (
            ["config", "list", "-f", "html"],
            "Invalid value for '--format' / '-f': Value error, 'html' is not one of "
            "'table', 'json', 'csv'. (see 'smsctl config list --help')",
        ),
        (
            ["overview", "--format"],
            "Option '--format' requires an argument. (see 'smsctl overview --help')",
        ),
        (["--bogus"], "No such option: --bogus (see 'smsctl --help')"),
    ],
)
def test_typer_usage_errors_are_one_line_exit_2(cli, args, message):
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"
