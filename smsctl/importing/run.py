"""Importing delivery logs: the ledger, rejected rows, batches and counts.

Every batch commits its messages, what follows from them (tallies, sticky
contacts, matched picks, opt-out events) and the ledger's counts together,
so an import killed at any moment leaves a consistent database, and running
the same command again finishes the work without counting anything twice.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..clock import now_epoch, zone
from ..errors import SmsctlError
from ..settings import load_settings
from ..store import Store
from .batches import BatchWriter
from .detect import Opened, check_provider, open_export
from .pipeline import ReaderProcessError, batches_from_child, read_batches
from .lock import import_lock
from .readers import HeaderError
from .records import make_row_builder
from .source import ExportFile

# Rows per commit: the first commits are small, so that progress shows in
# the ledger soon; later ones grow, since a commit's cost is mostly the index
# pages it writes, and more rows share them.
FIRST_COMMIT_ROWS = 10_000
MOST_COMMIT_ROWS = 200_000
# A page cache big enough for the hot part of the indexes an import writes,
# and small enough that memory stays flat (DESIGN: under 100 MiB).
IMPORT_CACHE_KIB = 32 * 1024


@dataclass
class Rejection:
    file: str
    line: int
    reason: str
    raw: str


@dataclass
class FileResult:
    """What importing one file did; ``exit_code`` follows DESIGN's table."""

    file: str
    exit_code: int = 0
    error: str | None = None
    provider: str | None = None
    label: str | None = None
    import_id: int | None = None
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    outside_pool: int = 0
    # The first few distinct senders outside the pool, and whether there are more.
    outside_numbers: list[str] = field(default_factory=list)
    more_outside_numbers: bool = False
    # How the file changed while it was read, if it did (see ExportFile)
    changed: str | None = None


@dataclass
class ImportOptions:
    provider: str | None = None
    timezone: str | None = None
    mapping: dict[str, str] | None = None
    on_reject: Callable[[Rejection], None] = lambda rejection: None
    on_progress: Callable[[str, int, int], None] = lambda name, done, total: None


def import_files(
    store: Store, paths: list[Path], options: ImportOptions
) -> list[FileResult]:
    """Import each file in turn under the import lock; one result per file.

    A file that cannot be opened or whose format is not recognised changes
    nothing and gets exit code 2; one with rejected rows keeps its good rows
    and gets 1. Raises UsageError for a bad --provider or --tz, and
    ImportLockedError when another import keeps the lock too long.
    """
    check_provider(options.provider, options.mapping)
    settings = load_settings(store)
    zone_name = options.timezone or settings["import.timezone"]
    zone(zone_name)  # refuse an unknown --tz before waiting for the lock
    holder = "smsctl logs import " + " ".join(str(p) for p in paths)[:200]
    with import_lock(store.path, settings["import.wait_seconds"], holder):
        with _import_pragmas(store), _collections_paused():
            return [
                _import_one(store, Path(path), options, zone_name) for path in paths
            ]


@contextmanager
def _import_pragmas(store: Store) -> Iterator[None]:
    """A larger page cache while importing; the connection's own one after."""
    before = store.scalar("PRAGMA cache_size")
    store.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        store.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def _collections_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while importing, in the reading
    process too (forked meanwhile). An import makes millions of objects and
    no reference cycles; each collection walked the rows alive for nothing,
    which took a twentieth of a large import's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_one(
    store: Store, path: Path, options: ImportOptions, zone_name: str
) -> FileResult:
    result = FileResult(file=str(path))
    try:
        export = ExportFile(path)
    except SmsctlError as exc:
        result.exit_code, result.error = 2, str(exc)
        return result

    bad: list[tuple[int, str, str]] = []  # records the reader could not read

    def on_bad(line: int, reason: str, raw: str) -> None:
        bad.append((line, reason, raw))

    with export:
        try:
            opened = open_export(export, options.provider, options.mapping, on_bad)
        except HeaderError as exc:
            result.exit_code, result.error = 2, f"{path}: {exc}"
            return result
        except UnicodeError as exc:
            result.exit_code, result.error = 2, f"{path}: cannot be decoded ({exc})"
            return result
        result.provider, result.label = opened.provider, opened.label
        try:
            _read_and_store(store, export, opened, bad, result, options, zone_name)
        except ReaderProcessError as exc:
            # What was committed stays; the next files are still imported.
            result.exit_code, result.error = exc.exit_code, str(exc)
            return result
    result.exit_code = 1 if result.rejected or result.changed else 0
    return result


def _read_and_store(
    store: Store,
    export: ExportFile,
    opened: Opened,
    bad: list[tuple[int, str, str]],
    result: FileResult,
    options: ImportOptions,
    zone_name: str,
) -> None:
    """Read every record, storing them a batch at a time, then close the ledger.

    The records are read into batches by another process while this one
    stores them (see pipeline.py); ``bad`` collects the records the reader
    could not read.
    """
    settings = load_settings(store)
    started = now_epoch()
    with store.transaction() as conn:
        result.import_id = conn.execute(
            "INSERT INTO imports (file, sha256, provider, started_at, "
            "first_message_id) VALUES (?, '', ?, ?, "
            "(SELECT coalesce(max(id), 0) + 1 FROM messages))",
            (str(export.path.resolve()), opened.provider, started),
        ).lastrowid
    events: list[tuple] = []
    build = make_row_builder(
        opened.provider,
        opened.reader.columns,
        zone(zone_name),
        started,
        zone(settings["billing.timezone"]),
        events,
    )
    writer = BatchWriter(
        store,
        opened.provider,
        result.import_id,
        result,
        FIRST_COMMIT_ROWS,
        MOST_COMMIT_ROWS,
    )
    batches = batches_from_child(
        lambda: read_batches(export, opened.reader, build, events, bad),
        keep_fds=[export.fileno()],
        name=str(export.path),
    )
    digest = ""
    try:
        for batch in batches:
            result.rows_read += batch.rows_read
            for line, reason, raw in batch.rejections:
                _reject(result, options, line, reason, raw)
            writer.write(batch.rows, batch.events, batch.tallies)
            # Known shortcoming: each round is a write of its own, so a file
            # that is mostly records of one message imports at about 50,000
            # records a second, against 140,000 for distinct messages.
            for repeats in batch.repeats:
                writer.write(repeats, [], repeats=True)
            options.on_progress(result.file, batch.bytes_read, export.size)
            digest = batch.sha256 or digest
            if batch.bytes_total is not None:
                result.changed = export.change_since_open(batch.bytes_total)
            del batch  # not held while the next batch is read
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    # A file that changed while it was read is left unfinished in the
    # ledger, as a killed import is, so that importing it again once it is
    # complete may still move the contacts this import made sticky. What was
    # read is kept, under the digest of the bytes read.
    finished = None if result.changed else now_epoch()
    with store.transaction() as conn:
        conn.execute(
            "UPDATE imports SET sha256 = ?, finished_at = ? WHERE id = ?",
            (digest, finished, result.import_id),
        )


def _reject(
    result: FileResult, options: ImportOptions, line: int, reason: str, raw: str
) -> None:
    result.rejected += 1
    options.on_reject(Rejection(result.file, line, reason, raw))


def import_history(store: Store) -> list[dict]:
    """Every import in the ledger, oldest first, with DESIGN's field names."""
    from ..clock import iso_utc

    rows = store.execute(
        "SELECT id, file, sha256, provider, started_at, finished_at, rows_read, "
        "added, updated, unchanged, rejected FROM imports ORDER BY id"
    )
    return [
        {
            "id": import_id,
            "file": file,
            "sha256": sha256,
            "provider": provider,
            "started_at": iso_utc(started),
            "finished_at": iso_utc(finished),
            "rows_read": read,
            "added": added,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": rejected,
        }
        for (
            import_id,
            file,
            sha256,
            provider,
            started,
            finished,
            read,
            added,
            updated,
            unchanged,
            rejected,
        ) in rows
    ]
