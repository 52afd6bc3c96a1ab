"""The one door to the database: opening it, its pragmas and its migrations."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import NoDatabaseError, UsageError

SQLITE_HEADER = b"SQLite format 3\x00"
PAGE_SIZE = 16384
APPLICATION_ID = 0x534D5343  # "SMSC": marks a file as an smsctl database
BUSY_TIMEOUT_MS = 30_000
# How long one try for the write lock waits (see Store.begin).
LOCK_TRY_MS = 100


def primary_error_code(exc: sqlite3.Error) -> int:
    """SQLite's primary result code for ``exc`` (SQLITE_BUSY, ...), without
    the extended part; 0 when it carries none."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF


class Store:
    """An open smsctl database: a sqlite3 connection in autocommit mode.

    Writes go through :meth:`transaction`, which takes the write lock up front
    so that concurrent writers queue on the busy timeout instead of failing.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        # Held by a helper thread while it uses the connection (a batch pick
        # records from one), so that close() waits for it.
        self.lock = threading.Lock()

    def execute(self, sql: str, params: tuple | list | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple | list | dict = ()) -> tuple | None:
        return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: tuple | list | dict = ()):
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.begin()
        with self.ending_transaction():
            yield self.conn

    def begin(self) -> None:
        """Open a write transaction, for one that ``ending_transaction`` ends
        in a later call (``transaction`` is the usual way).

        While another process writes, this waits up to the busy timeout in
        short tries: SQLite's own wait runs no Python, so Ctrl-C would
        otherwise go unheeded until the timeout, and the write go ahead.
        """
        conn = self.conn
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        conn.execute(f"PRAGMA busy_timeout = {LOCK_TRY_MS}")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    busy = primary_error_code(exc) == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @contextmanager
    def ending_transaction(self) -> Iterator[sqlite3.Connection]:
        """Commit the open transaction after the block, or roll it back if the
        block raises."""
        try:
            yield self.conn
        except BaseException:
            self.rollback()
            raise
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if SQLite has not already ended it
        (it does on some errors, a full disk among them)."""
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; a path the system refuses to look up (a name
    too long, say) is a UsageError naming it."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise UsageError(f"cannot use --db {path}: {exc.strerror}") from None
    return True


def create_store(path: Path) -> Store:
    """Create a new database at ``path``, readable by its owner only."""
    path = Path(path)
    if _exists(path):
        raise UsageError(
            f"{path} already exists; choose another --db path or use the database"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(
            f"cannot create {path}: a part of its folder is a file, not a folder; "
            "choose another --db path"
        ) from None
    except OSError as exc:
        raise UsageError(
            f"cannot create the folder of {path} ({exc.filename}): {exc.strerror}; "
            "choose another --db path"
        ) from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)
    try:
        return _connect(path, new=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def open_store(path: Path) -> Store:
    """Open an existing smsctl database, applying any pending migrations."""
    path = Path(path)
    if not _exists(path):
        raise NoDatabaseError(
            f"no database at {path}; run 'smsctl init --main PHONE' first "
            "(or point --db / SMSCTL_DB at an existing one)"
        )
    if path.is_dir():
        raise UsageError(f"--db {path} is a directory; give the database file's path")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if header != SQLITE_HEADER:
        raise UsageError(
            f"{path} is not an smsctl database; point --db at the file "
            "'smsctl init' created"
        )
    return _connect(path, new=False)


def _connect(path: Path, new: bool) -> Store:
    try:
        # A batch pick commits from a helper thread (picking.pick_batch),
        # never while another thread uses the connection.
        conn = sqlite3.connect(
            path,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise UsageError(f"cannot open {path}: {exc}") from None
    try:
        if not new:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if app_id != APPLICATION_ID:
                raise UsageError(
                    f"{path} is an SQLite file but not an smsctl database; "
                    "point --db at the file 'smsctl init' created"
                )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if new:
            # Set before the first page is written. Large pages make an index
            # cheaper to grow: an import of a million rows spends most of
            # its database time splitting and rewriting index pages.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        store = Store(conn, path)
        if new:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        _migrate(store)
    except sqlite3.OperationalError:
        # Busy (another process holds the database longer than the busy
        # timeout, as while it upgrades the schema): reported as such.
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise UsageError(
            f"{path} cannot be used as an smsctl database: {exc}"
        ) from None
    except BaseException:
        conn.close()
        raise
    return store


def _migrate(store: Store) -> None:
    from .migrations import MIGRATIONS, apply_migrations

    version = store.scalar("PRAGMA user_version")
    if version < len(MIGRATIONS):
        apply_migrations(store)
    elif version > len(MIGRATIONS):
        raise UsageError(
            f"{store.path} was written by a newer smsctl (schema {version}); "
            "upgrade smsctl to use it"
        )
