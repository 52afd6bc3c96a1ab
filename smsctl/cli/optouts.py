"""smsctl optouts: the pool-wide opt-out list."""

from __future__ import annotations

from typing import Annotated

import typer

from ..optouts import add_optout, list_optouts, remove_optout
from ..render import emit_listing
from .common import (
    DbOption,
    FormatOption,
    OutputFormat,
    command,
    current_time,
    new_group,
    open_db,
)
from .views import OPTOUT_COLUMNS

app = new_group("The pool-wide opt-out list.")

PhoneArgument = Annotated[str, typer.Argument(metavar="PHONE", help="A contact.")]


@command(app, "add")
def add(phone: PhoneArgument, db: DbOption) -> None:
    """Opt a contact out of texts from every number of the pool."""
    change = add_optout(open_db(db), phone, current_time())
    already = " (it already was)" if change.was_opted_out else ""
    typer.echo(f"{change.number} is opted out{already}.")


@command(app, "remove")
def remove(phone: PhoneArgument, db: DbOption) -> None:
    """Take a contact off the opt-out list (only a contact who asked to be
    texted again). Exits 0 even if it was not on the list."""
    change = remove_optout(open_db(db), phone, current_time())
    if change.recorded:
        typer.echo(f"{change.number} is no longer opted out.")
    else:
        typer.echo(f"{change.number} was not opted out; nothing changed.")


@command(app, "list")
def list_(db: DbOption, format_: FormatOption = OutputFormat.table) -> None:
    """Every opted-out contact, with where and when it opted out (UTC)."""
    emit_listing(
        list_optouts(open_db(db)), OPTOUT_COLUMNS, format_.value, title="Opted out"
    )
