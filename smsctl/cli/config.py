"""smsctl config: the settings."""

from __future__ import annotations

from typing import Annotated

import typer

from ..render import emit_listing
from ..settings import get_setting, list_settings, store_setting
from .common import DbOption, FormatOption, OutputFormat, command, new_group, open_db
from .views import SETTING_COLUMNS

app = new_group("Settings: billing, health, picking and import.")

KeyArgument = Annotated[
    str, typer.Argument(metavar="KEY", help="e.g. billing.allotment")
]
ValueArgument = Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")]


@command(app, "list")
def list_(db: DbOption, format_: FormatOption = OutputFormat.table) -> None:
    """Every setting with its value, default and meaning."""
    settings = list_settings(open_db(db))
    emit_listing(settings, SETTING_COLUMNS, format_.value, title="Settings")


@command(app, "get")
def get(key: KeyArgument, db: DbOption) -> None:
    """Print one setting's value."""
    typer.echo(get_setting(open_db(db), key))


@command(app, "set", negative_values=True)
def set_(key: KeyArgument, value: ValueArgument, db: DbOption) -> None:
    """Change one setting; the value is checked first."""
    stored = store_setting(open_db(db), key, value)
    typer.echo(f"{key} = {stored}")
