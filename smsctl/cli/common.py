"""What every command shares: --db, --format, the clock and error handling."""

from __future__ import annotations

import functools
import os
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer._click.globals import get_current_context
from typer.core import TyperCommand, TyperGroup

from ..paths import APP_NAME, default_db_path
from ..render import error
from . import INTERRUPTED
from .failures import REPORTED, failure_report

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        metavar="PATH",
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


class OneLineUsageError(ClickUsageError):
    """A usage error shown as one line on stderr: what is wrong, where help is.

    Click would print the usage block first; with no context attached it
    prints only ``Error: ...``.
    """

    def __init__(self, cause: ClickUsageError, command_path: str):
        text = " ".join(cause.format_message().split())
        super().__init__(f"{text} (see '{command_path} --help')")


def _one_line(exc: ClickUsageError, fallback_path: str) -> ClickUsageError:
    if isinstance(exc, (NoArgsIsHelpError, OneLineUsageError)):
        return exc
    path = exc.ctx.command_path if exc.ctx is not None else fallback_path
    return OneLineUsageError(exc, path)


class OneLineGroup(TyperGroup):
    """A command group whose usage errors are one line on stderr."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ClickUsageError as exc:
            raise _one_line(exc, _path(parent, info_name)) from None

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except ClickUsageError as exc:
            raise _one_line(exc, ctx.command_path) from None


class OneLineCommand(TyperCommand):
    """A command whose usage errors are one line on stderr."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except ClickUsageError as exc:
            raise _one_line(exc, _path(parent, info_name)) from None


def _path(parent, info_name: str | None) -> str:
    if parent is None:
        return info_name or APP_NAME
    return f"{parent.command_path} {info_name}"


def new_group(help_text: str, name: str | None = None) -> typer.Typer:
    """A command group with one-line usage errors and no tracebacks."""
    return typer.Typer(
        name=name,
        cls=OneLineGroup,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


def command(
    group: typer.Typer, name: str | None = None, negative_values: bool = False
) -> Callable:
    """Register a command whose smsctl errors become a message and an exit code.

    With ``negative_values``, an argument such as ``-1`` is taken as a value
    (and then checked) rather than refused as an unknown option.
    """
    settings = {"ignore_unknown_options": True} if negative_values else {}

    def register(function: Callable) -> Callable:
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                current_time()  # a bad SMSCTL_NOW is refused by every command
                return function(*args, **kwargs)
            except REPORTED as exc:
                message, code = failure_report(exc)
                error(message)
                raise typer.Exit(code) from None
            except ClickUsageError as exc:
                raise _one_line(exc, _current_path()) from None
            except BrokenPipeError:
                raise typer.Exit(0) from None
            except KeyboardInterrupt:
                # Every write is one transaction: it is whole, or not made.
                error(INTERRUPTED)
                raise typer.Exit(130) from None

        group.command(name, cls=OneLineCommand, context_settings=settings)(run)
        return function

    return register


def open_db(path: Path):
    """The store at ``path``, closed when the command ends."""
    from ..store import open_store

    store = open_store(path)
    context = get_current_context(silent=True)
    if context is not None:
        context.call_on_close(store.close)
    return store


def _current_path() -> str:
    context = get_current_context(silent=True)
    return context.command_path if context is not None else APP_NAME


def current_time():
    """Now, or SMSCTL_NOW; a bad SMSCTL_NOW is refused with exit 2."""
    from ..clock import now

    return now()


def stdout_is_terminal() -> bool:
    return os.isatty(1)
