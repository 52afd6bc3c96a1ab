"""Running a pick, single or batch, and writing its answer: free of Typer.

``send-from pick`` is called before every text a script sends, so a cold
pick must cost little more than starting Python. Both the Typer command and
the fast path in :mod:`smsctl.cli.quick` run this same code.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

from ..clock import now
from ..errors import UsageError
from ..picking import (
    BATCH_COLUMNS,
    BatchRow,
    PickResult,
    pick_batch,
    pick_sender,
    recipients_in,
)
from ..render import (
    Column,
    emit_listing,
    error,
    note,
    plain,
    safe_cell,
    write_csv,
    write_json,
    write_json_items,
)
from ..store import open_store

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


def run_pick(
    db: Path,
    to: str | None,
    file: Path | None,
    column: str,
    dry_run: bool,
    explain: bool,
    format_: str | None,
) -> int:
    """Pick for ``--to`` or every row of ``--file``; returns the exit code."""
    if (to is None) == (file is None):
        raise UsageError("give --to PHONE or --file CSV (one of them)")
    if file is not None and (explain or format_ == "table"):
        raise UsageError(
            "--file writes CSV or JSON; --explain and --format table go with --to"
        )
    try:
        # Opening may wait for another process (a schema upgrade).
        store = open_store(db)
    except KeyboardInterrupt:
        error("interrupted: nothing was picked")
        return 130
    try:
        return _pick_and_write(store, to, file, column, dry_run, explain, format_)
    except KeyboardInterrupt:
        error(
            "interrupted: run the pick again"
            if file is None
            else f"interrupted: {BATCH_STOPPED}"
        )
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise  # the reader went away: nothing to tell it
        error(
            f"cannot write the answer ({exc.strerror or exc}): the pick is recorded"
            if file is None
            else f"cannot write the rows out ({exc.strerror or exc}): {BATCH_STOPPED}"
        )
        return 1
    finally:
        store.close()


def _pick_and_write(store, to, file, column, dry_run, explain, format_) -> int:
    if file is not None:
        with (
            recipients_in(file, column) as recipients,
            # Closed before the store is: the batch's helper thread may be
            # recording when writing the rows fails.
            closing(pick_batch(store, recipients, now(), dry_run)) as rows,
        ):
            failed = _write_batch(rows, format_ or "csv")
        if failed:
            if failed == 1:
                note("1 row failed; its error column says why.")
            else:
                note(f"{failed} rows failed; their error column says why.")
            return 1
        return 0
    result = pick_sender(store, to, now(), dry_run, explain)
    if format_ == "json":
        write_json(result.as_dict())
    elif format_ == "csv":
        write_csv([result.as_dict()])
    else:
        _print_pick(result)
    return 0


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
    sys.stdout.write("\n".join(lines) + "\n")
    if result.explain is not None:
        emit_listing(result.explain, EXPLAIN_COLUMNS, "table", title="Why this number")


CSV_FLAG = {True: "true", False: "false", None: ""}
# What a batch that stops part-way has recorded (picking.pick_batch).
BATCH_STOPPED = (
    "the rows written out are picked and recorded, and so may be the rest of "
    "their chunk and the next chunk; pick again for the rows not written out "
    "(a contact already sticky keeps its number)"
)


def _write_batch(rows: Iterable[BatchRow], format_: str) -> int:
    """Writes the rows as they come; returns how many failed."""
    if format_ == "json":
        return _write_batch_json(rows)
    failed = 0
    write = sys.stdout.write
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(BATCH_COLUMNS)
    for row in rows:
        if row.error is None:
            # E.164 numbers, fixed words and flags: already what safe_cell
            # gives, and nothing a CSV field needs to quote.
            write(
                f"{row.to},{row.from_},{row.reason},{row.fallback or ''},"
                f"{CSV_FLAG[row.over_cap]},{CSV_FLAG[row.quiet_hours]},\n"
            )
        else:
            failed += 1
            writer.writerow(
                (safe_cell(row.to), "", "", "", "", "", safe_cell(row.error))
            )
    return failed


def _write_batch_json(rows: Iterable[BatchRow]) -> int:
    """The rows as one JSON array, each written as it comes, so that a batch
    that stops part-way still writes out what it recorded; returns how many
    failed."""
    failed = 0

    def listed() -> Iterator[dict]:
        nonlocal failed
        for row in rows:
            failed += row.error is not None
            yield dict(zip(BATCH_COLUMNS, row))

    write_json_items(listed())
    return failed
