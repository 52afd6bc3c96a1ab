"""smsctl numbers: the pool and the SMS Numbers table."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..billing import counted_days
from ..clock import parse_date
from ..figures import number_detail, number_rows
from ..numbers import add_number, remove_number, set_available
from ..render import emit_listing, key_value_table, write_csv, write_json
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
from .views import (
    NUMBER_COLUMNS,
    TREND_COLUMNS,
    UNHEALTHY_MARK,
    trend_pairs,
    trend_rows,
)

app = new_group("The pool of send-from numbers and the SMS Numbers table.")

PhoneArgument = Annotated[str, typer.Argument(metavar="PHONE", help="A phone number.")]
SinceOption = Annotated[
    Optional[str],
    typer.Option(
        "--since", metavar="DATE", help="Count texts from DATE (YYYY-MM-DD) to today."
    ),
]
AllTimeOption = Annotated[
    bool, typer.Option("--all-time", help="Count every text ever imported.")
]
UnavailableOption = Annotated[
    bool,
    typer.Option("--unavailable", help="Add it unticked: kept, but not picked."),
]
ReassignOption = Annotated[
    Optional[str],
    typer.Option(
        "--reassign-drips-to",
        metavar="PHONE",
        help="Move its active and paused drips to this pool number first.",
    ),
]


def _days(store, now, since: str | None, all_time: bool):
    since_day = parse_date(since, "--since") if since is not None else None
    return counted_days(store, now, since_day, all_time)


@command(app, "add")
def add(
    phone: PhoneArgument, db: DbOption, unavailable: UnavailableOption = False
) -> None:
    """Add a number to the pool; its state comes from its area code."""
    added = add_number(open_db(db), phone, available=not unavailable)
    state = "available" if added.available else "unavailable"
    typer.echo(f"Added {added.number} ({state}).")


@command(app, "list")
def list_(
    db: DbOption,
    since: SinceOption = None,
    all_time: AllTimeOption = False,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """The SMS Numbers table: health, state, drips and counts per number.

    Counts cover the current billing period unless --since or --all-time
    widens them; health is always that of the last health.window_days days.
    """
    store = open_db(db)
    now = current_time()
    first, last = _days(store, now, since, all_time)
    rows = number_rows(store, now, first, last)
    settings = load_settings(store)
    caption = (
        f"Counts: {'all time' if first is None else f'{first} to {last}'}. "
        f"Health: last {settings['health.window_days']} days; "
        f"{UNHEALTHY_MARK} = unhealthy (below {settings['pick.health_floor']} "
        f"with {settings['pick.health_min_messages']}+ delivered or blocked)."
    )
    emit_listing(
        rows, NUMBER_COLUMNS, format_.value, title="SMS Numbers", caption=caption
    )


@command(app, "show")
def show(
    phone: PhoneArgument,
    db: DbOption,
    since: SinceOption = None,
    all_time: AllTimeOption = False,
    format_: FormatOption = OutputFormat.table,
) -> None:
    """One number: figures, daily trend, sticky contacts and drips."""
    store = open_db(db)
    now = current_time()
    first, last = _days(store, now, since, all_time)
    detail = number_detail(store, now, phone, first, last)
    if format_ is OutputFormat.json:
        write_json(detail)
    elif format_ is OutputFormat.csv:
        write_csv([detail])
    else:
        _print_detail(detail)


def _print_detail(detail: dict) -> None:
    drips = ", ".join(
        f"#{d['id']} {d['name']} ({d['status']})" for d in detail["drips"]
    )
    key_value_table(
        [(c.title, c.text(detail)) for c in NUMBER_COLUMNS]
        + [("Sticky Contacts", str(detail["contacts"])), ("Drips", drips or "none")]
        + trend_pairs(detail["trend"]),
        title=f"SMS Number {detail['number']}",
    )
    emit_listing(
        trend_rows(detail["trend"]), TREND_COLUMNS, "table", title="Daily trend"
    )


@command(app, "available")
def available(phone: PhoneArgument, db: DbOption) -> None:
    """Tick Available: the number may be picked for new contacts."""
    changed = set_available(open_db(db), phone, True)
    typer.echo(f"{changed.number} is available.")


@command(app, "unavailable")
def unavailable(phone: PhoneArgument, db: DbOption) -> None:
    """Untick Available: no new contacts; its sticky contacts and drips keep it."""
    changed = set_available(open_db(db), phone, False)
    typer.echo(f"{changed.number} is unavailable; its contacts and drips keep it.")


@command(app, "remove")
def remove(
    phone: PhoneArgument, db: DbOption, reassign_drips_to: ReassignOption = None
) -> None:
    """Take a number out of the pool; its history stays.

    Refused for the main line, and while the number has active drips unless
    --reassign-drips-to moves them.
    """
    done = remove_number(open_db(db), phone, reassign_drips_to)
    typer.echo(
        f"Removed {done['number']}; forgot {done['contacts_forgotten']} "
        "sticky contacts."
    )
    if done["drips_moved"]:
        typer.echo(f"Moved {done['drips_moved']} drips to {done['drips_moved_to']}.")
