"""Schema migrations: named, ordered, recorded, applied in one transaction.

A released migration is never edited; a change of schema is a new function
appended to MIGRATIONS. ``PRAGMA user_version`` mirrors how many have been
applied, so that opening an up-to-date database costs one pragma and never
imports sqlite-utils.

The pending migrations are applied together inside one write transaction
taken at once (BEGIN IMMEDIATE), each within a savepoint of it. Two
processes that open an older database at the same moment are so put one
after the other: the second waits for the first, then finds nothing left
to apply, rather than failing on a half-applied upgrade.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from .store import Store

SCHEMA_V1 = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE numbers (
    number TEXT PRIMARY KEY,
    is_main INTEGER NOT NULL DEFAULT 0 CHECK (is_main IN (0, 1)),
    available INTEGER NOT NULL DEFAULT 1 CHECK (available IN (0, 1)),
    added_at INTEGER NOT NULL,
    removed_at INTEGER
);
CREATE UNIQUE INDEX numbers_one_main ON numbers (is_main) WHERE is_main = 1;

-- Every span of time a number spent in the pool, for per-period number fees.
CREATE TABLE memberships (
    number TEXT NOT NULL REFERENCES numbers (number),
    added_at INTEGER NOT NULL,
    removed_at INTEGER,
    PRIMARY KEY (number, added_at)
);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    provider TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    rows_read INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    outside_pool INTEGER NOT NULL DEFAULT 0
);

-- One row per provider message; a later record of it updates it in place.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    message_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    outbound INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    detail TEXT NOT NULL,
    rank INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    time_source TEXT NOT NULL CHECK (time_source IN ('sent', 'created', 'imported')),
    local_day TEXT NOT NULL,
    updated_at INTEGER,
    import_id INTEGER,
    UNIQUE (provider, message_id)
);
CREATE INDEX messages_by_sender ON messages (from_number, sent_at, detail, outbound);

-- Outbound message counts per sender, calendar day (billing.timezone) and
-- detail, so that listings never scan the messages table. The triggers below
-- count inserted rows and move a changed row's count; an import adds its
-- new rows' counts itself.
CREATE TABLE tallies (
    number TEXT NOT NULL,
    day TEXT NOT NULL,
    detail TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (number, day, detail)
) WITHOUT ROWID;

-- Without rowid: a sticky-number lookup is one descent of one b-tree.
CREATE TABLE contacts (
    contact TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    since INTEGER NOT NULL,
    source TEXT NOT NULL,
    import_id INTEGER
) WITHOUT ROWID;
CREATE INDEX contacts_by_number ON contacts (number);

CREATE TABLE picks (
    id INTEGER PRIMARY KEY,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    picked_at INTEGER NOT NULL,
    message_rowid INTEGER
);
CREATE INDEX picks_unmatched ON picks (from_number, to_number, picked_at)
    WHERE message_rowid IS NULL;
CREATE INDEX picks_load ON picks (from_number, picked_at)
    WHERE message_rowid IS NULL;

CREATE TABLE optout_events (
    id INTEGER PRIMARY KEY,
    contact TEXT NOT NULL,
    opted_out INTEGER NOT NULL,
    at INTEGER NOT NULL,
    source TEXT NOT NULL,
    provider TEXT,
    message_id TEXT,
    UNIQUE (provider, message_id)
);
CREATE INDEX optout_events_by_contact ON optout_events (contact, at);

CREATE TABLE drips (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    number TEXT NOT NULL REFERENCES numbers (number),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'ended')),
    created_at INTEGER NOT NULL
);
CREATE INDEX drips_by_number ON drips (number, status);

-- An import tallies the rows it adds itself, set-wise; any other insert is
-- tallied here, row by row.
CREATE TRIGGER messages_tally_insert AFTER INSERT ON messages
WHEN NEW.outbound = 1 AND NEW.import_id IS NULL
BEGIN
    INSERT INTO tallies (number, day, detail, n)
    VALUES (NEW.from_number, NEW.local_day, NEW.detail, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER messages_tally_update
AFTER UPDATE OF from_number, local_day, detail, outbound ON messages
BEGIN
    UPDATE tallies SET n = n - 1
    WHERE OLD.outbound = 1 AND number = OLD.from_number
      AND day = OLD.local_day AND detail = OLD.detail;
    INSERT INTO tallies (number, day, detail, n)
    SELECT NEW.from_number, NEW.local_day, NEW.detail, 1 WHERE NEW.outbound = 1
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- Only an import inserts messages. It keeps the tallies of the rows it adds,
-- makes their contacts sticky and matches them to picks set-wise, a batch at
-- a time (smsctl/importing/batches.py); a per-row trigger for each of these
-- made a large import several times slower.
"""


def m001_initial(db) -> None:
    for statement in _statements(SCHEMA_V1):
        db.execute(statement)


def _statements(script: str) -> list[str]:
    """Split a schema script into statements, keeping trigger bodies whole."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


# The columns of messages in m001, in their order.
MESSAGE_COLUMNS_V1 = (
    "id, provider, message_id, from_number, to_number, outbound, status, "
    "error_code, detail, rank, sent_at, time_source, local_day, updated_at, "
    "import_id"
)

# messages as m001 made it, without its UNIQUE (provider, message_id), with a key.
MESSAGES_V2 = """
CREATE TABLE messages_v2 (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    message_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    outbound INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NOT NULL,
    detail TEXT NOT NULL,
    rank INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    time_source TEXT NOT NULL CHECK (time_source IN ('sent', 'created', 'imported')),
    local_day TEXT NOT NULL,
    updated_at INTEGER,
    import_id INTEGER,
    message_key INTEGER
)
"""

# Of the messages that share a key, all but the first stored give it up.
SHARED_KEYS_CLEARED = """
UPDATE messages_v2 SET message_key = NULL
WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY message_key ORDER BY id) AS nth
        FROM messages_v2
    ) WHERE nth > 1
)
"""

M001_ON_MESSAGES = ("CREATE INDEX messages_", "CREATE TRIGGER messages_")

MESSAGE_KEY_INDEXES = """
CREATE UNIQUE INDEX messages_by_key ON messages (message_key);
-- A message whose key another message took first has no key; it is unique
-- by provider and id among those.
CREATE UNIQUE INDEX messages_overflow ON messages (provider, message_id)
    WHERE message_key IS NULL;
"""


def m002_message_keys(db) -> None:
    """Messages are unique by a 64-bit key of provider and id, not by the text.

    An import's inserts into a unique index of random text ids cost about
    three times those into an index of integers. SQLite cannot drop a
    table's own UNIQUE constraint, so the table is built again: every row
    keeps its id (picks.message_rowid refers to it), and the index and
    triggers of m001 are made again as they were.
    """
    # Imported here: every command loads this module to compare versions, and
    # hashlib would add milliseconds to a cold pick.
    from .message_keys import message_key

    db.conn.create_function("smsctl_message_key", 2, message_key, deterministic=True)
    db.execute(MESSAGES_V2)
    db.execute(
        f"INSERT INTO messages_v2 ({MESSAGE_COLUMNS_V1}, message_key) "
        f"SELECT {MESSAGE_COLUMNS_V1}, smsctl_message_key(provider, message_id) "
        "FROM messages ORDER BY id"
    )
    db.execute(SHARED_KEYS_CLEARED)
    db.execute("DROP TABLE messages")
    db.execute("ALTER TABLE messages_v2 RENAME TO messages")
    for statement in _statements(MESSAGE_KEY_INDEXES):
        db.execute(statement)
    # The old table took m001's index and triggers on messages with it.
    for statement in _statements(SCHEMA_V1):
        if statement.startswith(M001_ON_MESSAGES):
            db.execute(statement)


TIME_SOURCE_CHECK = " CHECK (time_source IN ('sent', 'created', 'imported'))"


def m003_no_time_source_check(db) -> None:
    """messages loses the CHECK on time_source, its only CHECK.

    SQLite evaluates a table's CHECK constraints on every row inserted, and
    this one made a large import's inserts about a third slower; the
    importer alone writes time_source, from a fixed set. Removing a CHECK
    leaves what is stored on disk unchanged, so the table's recorded schema
    is edited in place, as SQLite's documentation of ALTER TABLE describes
    for this kind of change, rather than the table built again.
    """
    stored = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
    ).fetchone()[0]
    if stored.count(TIME_SOURCE_CHECK) != 1:
        raise sqlite3.DatabaseError("its messages table is not as smsctl made it")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute(
            "UPDATE sqlite_master SET sql = ? "
            "WHERE type = 'table' AND name = 'messages'",
            [stored.replace(TIME_SOURCE_CHECK, "")],
        )
        db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")


def m004_imports_first_message(db) -> None:
    """imports gains first_message_id: the id its first new message gets.

    Messages take ids in the order they are stored and one import runs at a
    time, so an import's new messages are those from its first_message_id
    up to the next import's. A later record merged into an older message
    gives it the import's id as well; the range tells the two apart (see
    BatchWriter.finish). Imports recorded before this migration have none.
    """
    db.execute("ALTER TABLE imports ADD COLUMN first_message_id INTEGER")


MIGRATIONS: list[Callable] = [
    m001_initial,
    m002_message_keys,
    m003_no_time_source_check,
    m004_imports_first_message,
]


def apply_migrations(store: Store) -> None:
    """Apply the pending migrations, recording each one by name, all or none."""
    from sqlite_utils import Database, Migrations

    migrations = Migrations("smsctl")
    for function in MIGRATIONS:
        migrations(name=function.__name__)(function)
    db = Database(store.conn)
    with store.transaction():
        # Which are pending is read inside the transaction: another process
        # may have applied them while this one waited for it.
        migrations.apply(db)
        store.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
