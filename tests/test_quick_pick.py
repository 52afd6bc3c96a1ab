"""The fast pick path parses exactly what the Typer command parses.

Whatever it accepts must give the same output and exit code as Typer; what
it declines (help, typos, repeats, missing values) is left to Typer.
"""

import pytest

from smsctl.cli.quick import parse_pick_arguments, quick_pick

SAME_AS_TYPER = [
    ["send-from", "pick", "--to", "4155550199"],
    ["send-from", "pick", "--to=+14155550199", "--dry-run"],
    ["send-from", "pick", "--to", "4155550199", "--format", "json", "--explain"],
    ["send-from", "pick", "-f", "csv", "--to", "4155550199", "--dry-run"],
    ["send-from", "pick", "--to", "not-a-phone"],
    ["send-from", "pick", "--dry-run"],
    ["send-from", "pick", "--to", "4155550199", "--file", "recipients.csv"],
]


@pytest.mark.parametrize("argv", SAME_AS_TYPER)
def test_fast_path_answers_as_typer_does(pool, db_path, capsys, argv):
    typer_result = pool(*argv, "--dry-run") if "--dry-run" not in argv else pool(*argv)
    argv = argv if "--dry-run" in argv else [*argv, "--dry-run"]
    code = quick_pick(argv)
    captured = capsys.readouterr()
    assert code == typer_result.exit_code
    assert captured.out == typer_result.stdout
    assert captured.err == typer_result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["send-from", "pick", "--help"],
        ["send-from", "pick", "--to"],
        ["send-from", "pick", "--to", "4155550199", "--to", "4155550198"],
        ["send-from", "pick", "--to", "4155550199", "--format", "xml"],
        ["send-from", "pick", "--to", "4155550199", "--bogus"],
        ["send-from", "reset", "--to", "4155550199"],
        ["numbers", "list"],
        [],
    ],
)
def test_fast_path_leaves_everything_else_to_typer(argv):
    assert parse_pick_arguments(argv) is None


def test_fast_path_reads_every_pick_option():
    argv = [
        "send-from",
        "pick",
        "--file",
        "r.csv",
        "--column=phone",
        "--db",
        "x.db",
        "--format",
        "json",
        "--dry-run",
    ]
    assert parse_pick_arguments(argv) == {
        "file": "r.csv",
        "column": "phone",
        "db": "x.db",
        "format_": "json",
        "dry_run": True,
    }
