"""smsctl numbers: the pool and the SMS Numbers table."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..billing import current_period_days
from ..clock import parse_date
from ..errors import UsageError
from ..figures import number_detail, number_rows, today
from ..numbers import add_number, remove_number, set_available
from ..render import emit_listing, key_value_table, sparkline, write_csv, write_json
from ..settings import load_settings
from .common import (
    DbOption,
    FormatOption,
    OutputFormat,
    command,
    current_time,
    new_group,
    open_db,
)
from .views import NUMBER_COLUMNS, TREND_COLUMNS

app = new_group("The pool of send-from numbers and the SMS Numbers table.")

PhoneArgument = Annotated[str, typer.Argument(metavar="PHONE", help="A phone number.")]
SinceOption = Annotated[Optional[str], typer.Option(
    "--since", metavar="DATE", help="Count texts from DATE (YYYY-MM-DD) to today.")]
AllTimeOption = Annotated[bool, typer.Option(
    "--all-time", help="Count every text ever imported.")]


def _range(store, now, since: str | None, all_time: bool):
    """The days counted: the billing period by default."""
    if since and all_time:
        raise UsageError("use --since DATE or --all-time, not both")
    if all_time:
        return None, None
    if since:
        return parse_date(since, "--since"), today(now, load_settings(store))
    return current_period_days(store, now)


@command(app, "add")
def add(phone: PhoneArgument, db: DbOption,
        unavailable: Annotated[bool, typer.Option(
            "--unavailable", help="Add it unticked: kept, but not picked.")] = False,
        ) -> None:
    """Add a number to the pool; its state comes from its area code."""
    added = add_number(open_db(db), phone, available=not unavailable)
    state = "available" if added.available else "unavailable"
    typer.echo(f"Added {added.number} ({state}).")


@command(app, "list")
def list_(db: DbOption, since: SinceOption = None, all_time: AllTimeOption = False,
          format_: FormatOption = OutputFormat.table) -> None:
    """The SMS Numbers table: health, state, drips and counts per number."""
    store = open_db(db)
    now = current_time()
    first, last = _range(store, now, since, all_time)
    rows = number_rows(store, now, first, last)
    span = "all time" if first is None else f"{first} to {last}"
    emit_listing(rows, NUMBER_COLUMNS, format_.value, title="SMS Numbers",
                 caption=f"Counts: {span}. Health: last 15 days. ! = unhealthy.")


@command(app, "show")
def show(phone: PhoneArgument, db: DbOption, since: SinceOption = None,
         all_time: AllTimeOption = False,
         format_: FormatOption = OutputFormat.table) -> None:
    """One number: figures, daily trend, sticky contacts and drips."""
    store = open_db(db)
    now = current_time()
    first, last = _range(store, now, since, all_time)
    detail = number_detail(store, now, phone, first, last)
    if format_ is OutputFormat.json:
        write_json(detail)
    elif format_ is OutputFormat.csv:
        write_csv([detail])
    else:
        _print_detail(detail)


def _print_detail(detail: dict) -> None:
    trend = detail["trend"]
    key_value_table(
        [(c.title, c.text(detail)) for c in NUMBER_COLUMNS]
        + [("Sticky Contacts", str(detail["contacts"])),
           ("Drips", ", ".join(f"#{d['id']} {d['name']} ({d['status']})"
                               for d in detail["drips"]) or "none"),
           ("Trend", f"{trend[0]['date']} to {trend[-1]['date']}"),
           ("Sent / day", "|" + sparkline([d["sent"] for d in trend]) + "|"),
           ("Blocked / day", "|" + sparkline([d["blocked"] for d in trend]) + "|")],
        title=f"SMS Number {detail['number']}",
    )
    emit_listing(trend, TREND_COLUMNS, "table", title="Last days")


@command(app, "available")
def available(phone: PhoneArgument, db: DbOption) -> None:
    """Tick Available: the number may be picked for new contacts."""
    changed = set_available(open_db(db), phone, True)
    typer.echo(f"{changed.number} is available.")


@command(app, "unavailable")
def unavailable(phone: PhoneArgument, db: DbOption) -> None:
    """Untick Available: no new contacts; its sticky contacts keep it."""
    changed = set_available(open_db(db), phone, False)
    typer.echo(f"{changed.number} is unavailable; its contacts keep it.")


@command(app, "remove")
def remove(phone: PhoneArgument, db: DbOption,
           reassign_drips_to: Annotated[Optional[str], typer.Option(
               "--reassign-drips-to", metavar="PHONE",
               help="Move its drips to this number first.")] = None) -> None:
    """Take a number out of the pool; its history stays."""
    done = remove_number(open_db(db), phone, reassign_drips_to)
    typer.echo(f"Removed {done['number']}; forgot {done['contacts_forgotten']} "
               "sticky contacts.")
    if done["drips_moved"]:
        typer.echo(f"Moved {done['drips_moved']} drips to {done['drips_moved_to']}.")
