"""What every command shares: --db, --format, the clock and error handling."""

from __future__ import annotations

import functools
import os
import sqlite3
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable

import typer
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperCommand, TyperGroup

from ..errors import SmsctlError
from ..render import error

APP_NAME = "smsctl"


def default_db_path() -> Path:
    return Path(typer.get_app_dir(APP_NAME)) / "smsctl.db"


DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="SMSCTL_DB",
        help="The database file (default: smsctl.db in the application directory).",
        show_default=False,
        default_factory=default_db_path,
        dir_okay=True,
    ),
]


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table for people; json or csv for scripts."),
]


def _one_line(exc: ClickUsageError, ctx_path: str) -> ClickUsageError:
    exc.ctx = None  # drop the multi-line usage block; keep one line
    exc.message = f"{exc.format_message()} (see '{ctx_path} --help')"
    return exc


class OneLineGroup(TyperGroup):
    """A command group whose usage errors are one line on stderr."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ClickUsageError as exc:
            path = f"{parent.command_path} {info_name}" if parent else info_name
            raise _one_line(exc, path) from None

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except ClickUsageError as exc:
            raise _one_line(exc, ctx.command_path) from None


class OneLineCommand(TyperCommand):
    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ClickUsageError as exc:
            path = f"{parent.command_path} {info_name}" if parent else info_name
            raise _one_line(exc, path) from None


def new_group(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=OneLineGroup,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


def command(group: typer.Typer, name: str | None = None) -> Callable:
    """Register a command whose smsctl errors become a message and an exit code."""

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except SmsctlError as exc:
                error(str(exc))
                raise typer.Exit(exc.exit_code) from None
            except sqlite3.OperationalError as exc:
                error(f"the database is busy or unwritable ({exc}); try again")
                raise typer.Exit(1) from None
            except BrokenPipeError:
                raise typer.Exit(0) from None

        group.command(name, cls=OneLineCommand)(run)
        return function

    return register


def open_db(path: Path):
    from ..store import open_store

    return open_store(path)


def current_time():
    from ..clock import now

    return now()


def stdout_is_terminal() -> bool:
    return os.isatty(1)
