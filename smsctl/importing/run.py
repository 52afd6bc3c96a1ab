"""Importing delivery logs: batches, the ledger, rejected rows, and counts.

Every batch commits its messages, opt-out events and ledger counts together,
so an import killed at any moment leaves a consistent database, and running
the same command again finishes the work without counting anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..clock import LocalDays, now_epoch, zone
from ..errors import SmsctlError, UsageError
from ..settings import load_settings
from ..store import Store
from .detect import DetectedFormat, detect_format
from .formats import PROVIDER_NAMES
from .lock import import_lock
from .readers import BadRow, HeaderError
from .records import MessageBuilder, Rejected
from .source import ExportFile

BATCH_ROWS = 10_000
OUTSIDE_POOL_SHOWN = 5

UPSERT_MESSAGE = """
INSERT INTO messages (provider, message_id, from_number, to_number, outbound,
    status, error_code, detail, rank, sent_at, time_source, local_day,
    updated_at, import_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (provider, message_id) DO UPDATE SET
    from_number = excluded.from_number,
    to_number = excluded.to_number,
    outbound = excluded.outbound,
    status = excluded.status,
    error_code = excluded.error_code,
    detail = excluded.detail,
    rank = excluded.rank,
    sent_at = CASE WHEN excluded.time_source = 'imported'
        THEN messages.sent_at ELSE excluded.sent_at END,
    time_source = CASE WHEN excluded.time_source = 'imported'
        THEN messages.time_source ELSE excluded.time_source END,
    local_day = CASE WHEN excluded.time_source = 'imported'
        THEN messages.local_day ELSE excluded.local_day END,
    updated_at = excluded.updated_at,
    import_id = excluded.import_id
WHERE (excluded.rank, coalesce(excluded.updated_at, -1), excluded.status,
       excluded.error_code)
    > (messages.rank, coalesce(messages.updated_at, -1), messages.status,
       messages.error_code)
"""

INSERT_OPTOUT_EVENT = """
INSERT INTO optout_events (contact, opted_out, at, source, provider, message_id)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
"""


@dataclass
class Rejection:
    file: str
    line: int
    reason: str
    raw: str


@dataclass
class FileResult:
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
    outside_numbers: list[str] = field(default_factory=list)


@dataclass
class ImportOptions:
    provider: str | None = None
    timezone: str | None = None
    mapping: dict[str, str] | None = None
    on_reject: Callable[[Rejection], None] = lambda rejection: None
    on_progress: Callable[[str, int, int], None] = lambda name, done, total: None


def import_files(store: Store, paths: list[Path], options: ImportOptions) -> list[FileResult]:
    """Import each file in turn under the import lock; one result per file."""
    if options.provider is not None and options.provider not in PROVIDER_NAMES:
        raise UsageError(
            f"--provider {options.provider!r} is unknown; use one of "
            + ", ".join(PROVIDER_NAMES)
        )
    settings = load_settings(store)
    zone_name = options.timezone or settings["import.timezone"]
    zone(zone_name)  # refuse an unknown --tz before taking the lock
    holder = "smsctl logs import " + " ".join(str(p) for p in paths)[:200]
    with import_lock(store.path, settings["import.wait_seconds"], holder):
        return [_import_one(store, Path(path), options, zone_name) for path in paths]


def _import_one(store: Store, path: Path, options: ImportOptions,
                zone_name: str) -> FileResult:
    result = FileResult(file=str(path))
    try:
        export = ExportFile(path)
    except SmsctlError as exc:
        result.exit_code, result.error = 2, str(exc)
        return result
    with export:
        try:
            detected = detect_format(export, options.provider, options.mapping)
            records = detected.records(export)
            first = next(records, None)  # reads the header: a bad one stops here
        except HeaderError as exc:
            result.exit_code, result.error = 2, f"{path}: {exc}"
            return result
        except UnicodeError as exc:
            result.exit_code, result.error = 2, f"{path}: cannot be decoded ({exc})"
            return result
        result.provider, result.label = detected.provider, detected.label
        _run_batches(store, export, detected, first, records, result, options,
                     zone_name)
    result.exit_code = 1 if result.rejected else 0
    return result


def _run_batches(store, export, detected: DetectedFormat, first, records, result,
                 options: ImportOptions, zone_name: str) -> None:
    started = now_epoch()
    settings = load_settings(store)
    with store.transaction() as conn:
        result.import_id = conn.execute(
            "INSERT INTO imports (file, sha256, provider, started_at) "
            "VALUES (?, '', ?, ?)",
            (str(export.path.resolve()), detected.provider, started),
        ).lastrowid
    builder = MessageBuilder(
        detected.provider, zone(zone_name), result.import_id, started,
        LocalDays(settings["billing.timezone"]),
    )
    pool = {row[0] for row in store.execute(
        "SELECT number FROM numbers WHERE removed_at IS NULL")}
    rows, events = [], []
    pending = [first] if first is not None else []

    def flush() -> None:
        _commit_batch(store, rows, events, result)
        rows.clear()
        events.clear()
        options.on_progress(result.file, export.bytes_read, export.size)

    for record in _chain(pending, records):
        result.rows_read += 1
        if isinstance(record, BadRow):
            _reject(result, options, record.line, record.reason, record.raw)
            continue
        try:
            row, event = builder.build(record)
        except Rejected as exc:
            _reject(result, options, record.line, str(exc), _raw_of(record))
            continue
        rows.append(row)
        if event is not None:
            events.append(event)
        if row[4] and row[2] not in pool:
            result.outside_pool += 1
            if (len(result.outside_numbers) < OUTSIDE_POOL_SHOWN
                    and row[2] not in result.outside_numbers):
                result.outside_numbers.append(row[2])
        if len(rows) >= BATCH_ROWS:
            flush()
    flush()
    digest = export.sha256_of_rest()
    with store.transaction() as conn:
        conn.execute(
            "UPDATE imports SET sha256 = ?, finished_at = ? WHERE id = ?",
            (digest, now_epoch(), result.import_id),
        )


def _chain(first: list, rest):
    yield from first
    yield from rest


def _commit_batch(store: Store, rows: list, events: list, result: FileResult) -> None:
    with store.transaction() as conn:
        before = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        changed = conn.executemany(UPSERT_MESSAGE, rows).rowcount if rows else 0
        after = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        if events:
            conn.executemany(INSERT_OPTOUT_EVENT, events)
        added = after - before
        result.added += added
        result.updated += changed - added
        result.unchanged += len(rows) - changed
        conn.execute(
            "UPDATE imports SET rows_read = ?, added = ?, updated = ?, unchanged = ?, "
            "rejected = ?, outside_pool = ? WHERE id = ?",
            (result.rows_read, result.added, result.updated, result.unchanged,
             result.rejected, result.outside_pool, result.import_id),
        )


def _reject(result: FileResult, options: ImportOptions, line: int, reason: str,
            raw: str) -> None:
    result.rejected += 1
    options.on_reject(Rejection(result.file, line, reason, raw))


def _raw_of(record) -> str:
    parts = [record.message_id, record.from_, record.to, record.status,
             ",".join(record.codes), record.direction or "", record.sent or ""]
    return ",".join(parts)[:2000]


def import_history(store: Store) -> list[dict]:
    from ..clock import iso_utc

    rows = store.execute(
        "SELECT id, file, sha256, provider, started_at, finished_at, rows_read, "
        "added, updated, unchanged, rejected FROM imports ORDER BY id"
    )
    history = []
    for (import_id, file, sha256, provider, started, finished, read, added,
         updated, unchanged, rejected) in rows:
        history.append({
            "id": import_id, "file": file, "sha256": sha256, "provider": provider,
            "started_at": iso_utc(started), "finished_at": iso_utc(finished),
            "rows_read": read, "added": added, "updated": updated,
            "unchanged": unchanged, "rejected": rejected,
        })
    return history
