"""smsctl init: create the database."""

from __future__ import annotations

from typing import Annotated

import typer

from ..numbers import init_database
from .common import DbOption, command


def register(app: typer.Typer) -> None:
    @command(app, "init")
    def init(
        main: Annotated[
            str,
            typer.Option(
                "--main", metavar="PHONE", help="The account's main VoIP line."
            ),
        ],
        db: DbOption,
    ) -> None:
        """Create the database and register the main line."""
        number = init_database(db, main)
        typer.echo(f"Created {db} with main line {number}.")
