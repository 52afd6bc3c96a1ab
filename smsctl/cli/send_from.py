"""smsctl send-from: choosing the number each text goes out from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..picking import forget_contact
from .common import DbOption, OutputFormat, command, new_group, open_db
from .picks import run_pick

app = new_group("Pick the send-from number for a recipient.")


@command(app, "pick")
def pick(
    db: DbOption,
    to: Annotated[
        Optional[str], typer.Option("--to", metavar="PHONE", help="The recipient.")
    ] = None,
    file: Annotated[
        Optional[Path],
        typer.Option(
            "--file",
            metavar="CSV",
            help="Pick for every recipient of a CSV file; "
            "writes one CSV row per row in (exit 1 if any row failed).",
        ),
    ] = None,
    column: Annotated[
        str,
        typer.Option(
            "--column", metavar="NAME", help="The recipients' column of --file."
        ),
    ] = "to",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Answer without recording the pick.")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Show each tier and why each number was or was not chosen.",
        ),
    ] = False,
    format_: Annotated[
        Optional[OutputFormat],
        typer.Option(
            "--format",
            "-f",
            help="table for people (csv with --file); json or csv for scripts.",
        ),
    ] = None,
) -> None:
    """Pick the number to text a recipient from: its sticky number, else the
    least loaded healthy number closest to it. Exit 3: opted out; exit 4: no
    number can send."""
    code = run_pick(
        db, to, file, column, dry_run, explain, format_.value if format_ else None
    )
    if code:
        raise typer.Exit(code)


@command(app, "reset")
def reset(
    db: DbOption,
    to: Annotated[str, typer.Option("--to", metavar="PHONE", help="The contact.")],
) -> None:
    """Forget the number a contact is sticky to; its next pick chooses afresh.
    Exits 0 whether or not it had one."""
    contact, number = forget_contact(open_db(db), to)
    if number is None:
        typer.echo(f"{contact} had no sticky number; nothing to forget.")
    else:
        typer.echo(f"{contact} is no longer sticky to {number}.")
