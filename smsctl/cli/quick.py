"""The fast path for ``smsctl send-from pick``.

A sending script calls ``send-from pick`` before every text. Typer's import
and its per-option validation cost several times the interpreter's own
start, so a pick whose arguments are plainly well formed is parsed here and
run by the same code the Typer command runs (:func:`smsctl.cli.picks.run_pick`).
Anything else (help, an unknown or repeated option, a missing value) is left
to Typer, so usage errors and help have one home.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FLAGS = {"--dry-run": "dry_run", "--explain": "explain"}
VALUED = {
    "--to": "to",
    "--file": "file",
    "--column": "column",
    "--db": "db",
    "--format": "format_",
    "-f": "format_",
}
FORMATS = ("table", "json", "csv")


def parse_pick_arguments(argv: list[str]) -> dict | None:
    """The options of a well-formed ``send-from pick``, or None to defer to Typer."""
    if argv[:2] != ["send-from", "pick"]:
        return None
    options: dict = {}
    rest = argv[2:]
    position = 0
    while position < len(rest):
        argument = rest[position]
        position += 1
        if argument in FLAGS and FLAGS[argument] not in options:
            options[FLAGS[argument]] = True
            continue
        name, equals, value = argument.partition("=")
        if name not in VALUED or VALUED[name] in options or name == "-f" and equals:
            return None
        if not equals:
            if position >= len(rest) or rest[position].startswith("-"):
                return None
            value = rest[position]
            position += 1
        options[VALUED[name]] = value
    if options.get("format_", "table") not in FORMATS:
        return None
    return options


def quick_pick(argv: list[str]) -> int | None:
    """Run a well-formed pick and return its exit code; None when not handled."""
    options = parse_pick_arguments(argv)
    if options is None:
        return None
    from ..paths import default_db_path
    from ..render import error
    from .failures import REPORTED, failure_report
    from .picks import run_pick

    db = options.get("db") or os.environ.get("SMSCTL_DB") or default_db_path()
    file = options.get("file")
    try:
        from ..clock import now

        now()  # a bad SMSCTL_NOW is refused by every command
        return run_pick(
            Path(db),
            options.get("to"),
            Path(file) if file else None,
            options.get("column", "to"),
            options.get("dry_run", False),
            options.get("explain", False),
            options.get("format_"),
        )
    except REPORTED as exc:
        message, code = failure_report(exc)
        error(message)
        return code
    except BrokenPipeError:
        sys.stderr.close()
        return 0
