"""smsctl drips: drip campaigns."""

from __future__ import annotations

from typing import Annotated

import typer

from ..drips import add_drip, change_drip_status, list_drips
from ..render import emit_listing
from .common import DbOption, FormatOption, OutputFormat, command, new_group, open_db
from .views import DRIP_COLUMNS

app = new_group("Drip campaigns: named series of texts sent from one number.")

IdArgument = Annotated[int, typer.Argument(metavar="ID", help="The drip's id.")]


NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="What the campaign is called.")
]
FromOption = Annotated[
    str, typer.Option("--from", metavar="PHONE", help="The pool number it sends from.")
]


@command(app, "add")
def add(name: NameArgument, from_: FromOption, db: DbOption) -> None:
    """Start a drip campaign from a pool number."""
    drip = add_drip(open_db(db), name, from_)
    typer.echo(f"Drip #{drip.id} {drip.name!r} is active on {drip.number}.")


@command(app, "list")
def list_(db: DbOption, format_: FormatOption = OutputFormat.table) -> None:
    """Every drip with its number and status."""
    rows = [drip.as_dict() for drip in list_drips(open_db(db))]
    emit_listing(rows, DRIP_COLUMNS, format_.value, title="Drips")


def _status_command(verb: str, summary: str) -> None:
    def change(drip_id: IdArgument, db: DbOption) -> None:
        drip = change_drip_status(open_db(db), drip_id, verb)
        typer.echo(f"Drip #{drip.id} {drip.name!r} is {drip.status}.")

    change.__doc__ = summary
    command(app, verb)(change)


_status_command("pause", "Pause an active drip.")
_status_command("resume", "Resume a paused drip.")
_status_command("end", "End a drip for good.")
