"""smsctl logs: importing providers' delivery logs, and the import ledger."""

from __future__ import annotations

import csv
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from ..errors import UsageError
from ..importing import FileResult, ImportOptions, Rejection, import_files
from ..importing import import_history
from ..importing.formats import parse_mapping
from ..paths import DB_COMPANIONS, is_same_file, open_private
from ..render import emit_listing, error, for_sharing, safe_cell
from .common import DbOption, FormatOption, OutputFormat, command, new_group, open_db
from .progress import import_progress
from .views import HISTORY_COLUMNS

app = new_group("Delivery logs exported by SMS providers.")

# Rejected rows shown on stderr; --rejects FILE gets them all.
REJECTS_SHOWN = 100


@command(app, "import")
def import_(
    names: Annotated[list[str], typer.Argument(metavar="FILE...", help="Exports.")],
    db: DbOption,
    provider: Annotated[
        Optional[str],
        typer.Option(
            "--provider",
            metavar="NAME",
            help="twilio, telnyx, plivo or generic (default: recognised)",
        ),
    ] = None,
    tz: Annotated[
        Optional[str],
        typer.Option(
            "--tz", metavar="ZONE", help="Zone of times without one (import.timezone)."
        ),
    ] = None,
    map_: Annotated[
        Optional[str],
        typer.Option(
            "--map",
            metavar="id=COL,from=COL,to=COL,status=COL,sent_at=COL",
            help="Columns of a CSV from any other source.",
        ),
    ] = None,
    rejects: Annotated[
        Optional[Path],
        typer.Option("--rejects", metavar="CSV", help="Write every rejected row here."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar; summary only.")
    ] = False,
) -> None:
    """Import delivery logs; safe to rerun over overlapping files."""
    if "" in names:
        # Read as a Path, an empty name would be the current folder.
        raise UsageError("an empty file name was given; name each export file")
    files = [Path(name) for name in names]
    mapping = parse_mapping(map_) if map_ else None
    store = open_db(db)
    if rejects is not None:
        _refuse_overwriting(rejects, store.path, files)
    with ExitStack() as stack:
        on_reject = _reject_printer(stack, rejects)
        progress = stack.enter_context(import_progress(enabled=not quiet))
        try:
            results = import_files(
                store,
                files,
                ImportOptions(
                    provider=provider,
                    timezone=tz,
                    mapping=mapping,
                    on_reject=on_reject,
                    on_progress=progress,
                ),
            )
        except KeyboardInterrupt:
            error(
                "interrupted: what was committed is kept; run the same import "
                "again to finish it"
            )
            raise typer.Exit(130) from None
    for result in results:
        _print_summary(result)
    raise typer.Exit(max(r.exit_code for r in results))


def _reject_printer(
    stack: ExitStack, rejects: Path | None
) -> Callable[[Rejection], None]:
    """Reports each rejected row on stderr and, with --rejects, in a CSV file."""
    writer = None
    if rejects is not None:
        try:
            handle = stack.enter_context(open_private(rejects))
        except OSError as exc:
            raise UsageError(
                f"cannot write --rejects {rejects}: {exc.strerror}"
            ) from None
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason", "raw"])
    shown = 0

    def on_reject(rejection: Rejection) -> None:
        nonlocal shown
        if writer is not None:
            writer.writerow(
                [
                    safe_cell(value)
                    for value in (
                        rejection.file,
                        rejection.line,
                        rejection.reason,
                        rejection.raw,
                    )
                ]
            )
        shown += 1
        if shown <= REJECTS_SHOWN:
            reason = for_sharing(rejection.reason)
            sys.stderr.write(f"{rejection.file}:{rejection.line}: rejected: {reason}\n")
        elif shown == REJECTS_SHOWN + 1 and writer is None:
            sys.stderr.write(
                "more rejected rows follow; write them all with " "--rejects FILE\n"
            )

    return on_reject


def _refuse_overwriting(rejects: Path, db: Path, files: list[Path]) -> None:
    """--rejects must not name the database, its companion files or an export:
    it is emptied before the first row is read."""
    # SQLite names its companion files after the database file itself.
    companions = [
        Path(f"{base}{suffix}")
        for base in {str(db), os.path.realpath(db)}
        for suffix in DB_COMPANIONS
    ]
    for path, what in [
        (db, "the database"),
        *((path, "a file the database keeps beside it") for path in companions),
        *((path, "an export being imported") for path in files),
    ]:
        if is_same_file(rejects, path):
            raise UsageError(
                f"--rejects {rejects} is {what} and would be overwritten; "
                "give --rejects a file of its own"
            )


def _print_summary(result: FileResult) -> None:
    if result.error:
        error(result.error)
        return
    typer.echo(
        f"{result.file}: {result.label}, {result.rows_read} read, {result.added} "
        f"added, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.rejected} rejected"
    )
    if result.changed:
        error(
            f"{result.file} changed while it was read ({result.changed}); what "
            "was read is kept: import it again once the file is complete"
        )
    if result.outside_pool:
        if result.outside_pool == 1:
            kept = "1 text from a number outside the pool was kept and counts"
        else:
            kept = (
                f"{result.outside_pool} texts from numbers outside the pool were "
                "kept and count"
            )
        typer.echo(
            f"  {kept} once the number joins: {', '.join(result.outside_numbers)}"
            + (", ..." if result.more_outside_numbers else "")
        )


@command(app, "history")
def history(db: DbOption, format_: FormatOption = OutputFormat.table) -> None:
    """What each import read, added, updated and rejected."""
    emit_listing(
        import_history(open_db(db)), HISTORY_COLUMNS, format_.value, title="Imports"
    )
