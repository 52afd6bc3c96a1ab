"""smsctl send-from: choosing the number each text goes out from."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import UsageError
from ..picking import (
    BATCH_COLUMNS,
    BatchRow,
    PickResult,
    forget_contact,
    pick_batch,
    pick_sender,
    recipients_in,
)
from ..render import Column, emit_listing, note, plain, safe_cell, write_csv, write_json
from .common import DbOption, OutputFormat, command, current_time, new_group, open_db

app = new_group("Pick the send-from number for a recipient.")

REASON_TEXT = {
    "sticky": "the contact's sticky number",
    "area_code": "same area code",
    "overlay": "overlay of the recipient's area code",
    "state": "same state or province",
    "time_zone": "same time zone",
    "country": "same country",
    "any": "the only kind of number left",
}
EXPLAIN_COLUMNS = [
    Column("tier", "Tier"),
    Column("number", "Number"),
    Column("chosen", "Chosen", lambda v, r: "<-" if v else ""),
    Column("load", "Load", justify="right"),
    Column("health", "Health", lambda v, r: plain(v), justify="right"),
    Column("why", "Why"),
]


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
    if (to is None) == (file is None):
        raise UsageError("give --to PHONE or --file CSV (one of them)")
    if file is not None:
        if explain or format_ is OutputFormat.table:
            raise UsageError(
                "--file writes CSV or JSON; --explain and --format table go with --to"
            )
        with recipients_in(file, column) as recipients:
            rows = pick_batch(open_db(db), recipients, current_time(), dry_run)
            failed = _write_batch(rows, format_ or OutputFormat.csv)
        if failed:
            note(f"{failed} rows failed; their error column says why.")
            raise typer.Exit(1)
        return
    result = pick_sender(open_db(db), to, current_time(), dry_run, explain)
    if format_ is OutputFormat.json:
        write_json(result.as_dict())
    elif format_ is OutputFormat.csv:
        write_csv([result.as_dict()])
    else:
        _print_pick(result)


def _print_pick(result: PickResult) -> None:
    lines = [f"from {result.from_} ({REASON_TEXT[result.reason]})"]
    if result.fallback:
        lines.append(
            "unhealthy: no healthy number can send, so the healthiest "
            "unhealthy one was picked"
        )
    if result.over_cap:
        lines.append("over the daily cap: it still serves its sticky contacts")
    if result.quiet_hours is None:
        lines.append("recipient's local time unknown")
    else:
        quiet = "in quiet hours" if result.quiet_hours else "outside quiet hours"
        lines.append(f"recipient's local time {result.recipient_local_time}, {quiet}")
    if not result.recorded:
        lines.append("dry run: nothing recorded")
    typer.echo("\n".join(lines))
    if result.explain is not None:
        emit_listing(result.explain, EXPLAIN_COLUMNS, "table", title="Why this number")


CSV_FLAG = {True: "true", False: "false", None: ""}


def _write_batch(rows: Iterable[BatchRow], format_: OutputFormat) -> int:
    """Writes the rows as they come; returns how many failed."""
    if format_ is OutputFormat.json:
        listed = [dict(zip(BATCH_COLUMNS, row)) for row in rows]
        write_json(listed)
        return sum(row["error"] is not None for row in listed)
    failed = 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(BATCH_COLUMNS)
    for row in rows:
        if row.error is None:
            # E.164 numbers, fixed words and flags: already what safe_cell gives.
            writer.writerow(
                (
                    row.to,
                    row.from_,
                    row.reason,
                    row.fallback or "",
                    CSV_FLAG[row.over_cap],
                    CSV_FLAG[row.quiet_hours],
                    "",
                )
            )
        else:
            failed += 1
            writer.writerow(
                (safe_cell(row.to), "", "", "", "", "", safe_cell(row.error))
            )
    return failed


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
