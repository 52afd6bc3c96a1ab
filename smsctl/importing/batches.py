"""Storing an import's message rows, and all that follows from them.

Known shortfall: a million-row import takes 2.5 to 2.7 times the sqlite3
shell's plain ``.import`` of the same file, against a goal of 2, which is
out of reach here (README, Benchmarks): storing alone, with the file read
beforehand, takes 2.2 times (bench/store_only.py), mostly SQLite's work on
the table and the two indexes of messages and Python binding each value;
making the file's contacts sticky, once it is read, adds most of a second
that only its sort's helper threads overlap. Into a database that already
holds millions of messages, storing is slower still (a million rows into
4,000,000: about 14 s), as the indexes outgrow the import's page cache.

Rows reach the database in chunks. A chunk is inserted in the order of its
message keys (message_keys.py), with one prepared statement that skips rows
whose key is taken; those rows are then merged into the stored messages by
an UPDATE that applies DESIGN's ranking. A transaction spans several chunks
and commits them with the ledger's counts, so a kill loses at most the
uncommitted chunks, which the rerun stores again.

A key is taken either by an earlier record of the same message or, very
rarely, by a different message with the same key. The second kind is stored
without a key, unique by provider and id in the ``messages_overflow`` index,
and its later records are merged there. Only rows that were not inserted are
told apart, with one query for the whole chunk, so that a chunk of new
messages costs its insert alone. After a chunk of mostly stored messages (a
file imported again, as cron does with overlapping exports), the next one
is looked up first and only its new rows inserted: an insert that fails
costs as much as one that succeeds, and this makes importing a million
stored rows again about a third quicker.

What follows from new rows is done set-wise rather than by a trigger per
row: their per-day tallies (counted in Python), the picks they use up and,
once the file is read, the contacts they make sticky. A row merged into an
existing message moves its tallies through the ``messages_tally_update``
trigger. The ``messages_tally_insert`` trigger, which tallies rows inserted
by anything else, is taken off inside each import transaction and put back
before it commits: a trigger on the table makes SQLite journal every row's
pages, which made a large import several times slower.
"""

from __future__ import annotations

import json
import re
import sqlite3
from operator import itemgetter

from ..store import Store
from .records import (
    NO_UPDATE_TIME,
    ROW_COLUMNS,
    ROW_DETAIL,
    ROW_FROM,
    ROW_ID,
    ROW_KEY,
    ROW_LOCAL_DAY,
    ROW_OUTBOUND,
)

INSERT_TRIGGER = "messages_tally_insert"
# Senders from outside the pool an import names; it counts the rest.
OUTSIDE_POOL_SHOWN = 5
SORT_CACHE_KIB = 4096
# Helper threads SQLite may sort the file's contacts with.
SORT_THREADS = 2

# Time sources, best first. A message's time comes from its winning record
# unless another record has a better source, so that files imported in any
# order agree.
TIME_PRIORITY = "(CASE {} WHEN 'sent' THEN 2 WHEN 'created' THEN 1 ELSE 0 END)"


def _numbered(column: str) -> str:
    """The SQL for a row's value of ``column``, a numbered parameter."""
    parameter = f"?{ROW_COLUMNS.index(column) + 1}"
    if column == "updated_at":
        return f"nullif({parameter}, '{NO_UPDATE_TIME}')"
    return parameter


# The record that wins: higher rank, then newer provider update, then the
# larger (status, code), so that files imported in any order agree.
WINS = (
    f"({_numbered('rank')}, coalesce({_numbered('updated_at')}, -1), "
    f"{_numbered('status')}, {_numbered('error_code')}) > "
    "(rank, coalesce(updated_at, -1), status, error_code)"
)
BETTER_TIME = (
    f"{TIME_PRIORITY.format(_numbered('time_source'))} > "
    f"{TIME_PRIORITY.format('time_source')}"
)
TAKES_TIME = (
    f"({BETTER_TIME} OR ({WINS} AND {TIME_PRIORITY.format(_numbered('time_source'))}"
    f" = {TIME_PRIORITY.format('time_source')}))"
)
WINNER_COLUMNS = (
    "from_number",
    "to_number",
    "outbound",
    "status",
    "error_code",
    "detail",
    "rank",
    "updated_at",
)
TIME_COLUMNS = ("sent_at", "time_source", "local_day")


def insert_sql(provider: str, import_id: int, overflow: bool = False) -> str:
    """Inserts one row unless its key is taken; provider and import are fixed.

    With ``overflow``, the row is given without its key (the last value) and
    stored without one, unless its message is among those already stored so.
    """
    _check_provider_key(provider)
    placeholders = [_numbered(column) for column in ROW_COLUMNS]
    if overflow:
        placeholders[ROW_KEY] = "NULL"
        conflict = "(provider, message_id) WHERE message_key IS NULL"
    else:
        conflict = "(message_key)"
    return (
        f"INSERT INTO messages (provider, import_id, {', '.join(ROW_COLUMNS)}) "
        f"VALUES ('{provider}', {int(import_id)}, {', '.join(placeholders)}) "
        f"ON CONFLICT {conflict} DO NOTHING"
    )


def merge_sql(provider: str, import_id: int, overflow: bool = False) -> str:
    """Merges one row into its stored message: the winner's fields, the best time.

    The message is the one stored at the row's key, the row then given with
    that message's id after its values (found by KEY_HOLDERS: a lookup by id
    is cheaper than one by key); or with ``overflow``, the one stored without
    a key, the row then given without its key.
    """
    _check_provider_key(provider)
    sets = [f"{c} = iif({WINS}, {_numbered(c)}, {c})" for c in WINNER_COLUMNS]
    sets.append(f"import_id = iif({WINS}, {int(import_id)}, import_id)")
    sets += [f"{c} = iif({TAKES_TIME}, {_numbered(c)}, {c})" for c in TIME_COLUMNS]
    if overflow:
        where = (
            f"message_key IS NULL AND provider = '{provider}' "
            f"AND message_id = {_numbered('message_id')}"
        )
    else:
        where = f"id = ?{len(ROW_COLUMNS) + 1}"
    return (
        f"UPDATE messages SET {', '.join(sets)} "
        f"WHERE {where} AND ({WINS} OR {BETTER_TIME})"
    )


def _check_provider_key(provider: str) -> None:
    if not re.fullmatch(r"[a-z0-9_\-]+", provider):
        raise ValueError(f"provider key {provider!r}")


ADD_TALLIES = """
INSERT INTO tallies (number, day, detail, n) VALUES (?, ?, ?, ?)
ON CONFLICT DO UPDATE SET n = n + excluded.n
"""

# A contact becomes sticky to the pool number of its earliest outbound text
# (on a tie, the lower number) in the import that first sees it, and never
# changes after. A killed import of the same file is still open: its rerun
# may find an earlier text in the part the killed one had not reached. Only
# the texts the open imports stored new count ({new_messages}: ranges of ids,
# see _new_messages), not older ones they merely updated, and whichever
# import's record of them won since.
# A text's time and its sender's rank among the pool's numbers (1, 2, ...)
# are packed in one integer, (sent_at << bits) | rank, with just enough bits
# for the ranks, so that the earliest text, and on a tie the lower number,
# is that integer's minimum. Times from year 1 to 9999 take 39 of its 63
# bits, leaving 24 for the ranks.
STICKY_CONTACTS = """
WITH pool (number, rank) AS MATERIALIZED (
    SELECT number, row_number() OVER (ORDER BY number) FROM numbers
    WHERE removed_at IS NULL
)
INSERT INTO contacts (contact, number, since, source, import_id)
SELECT first.to_number, pool.number, first.text >> {bits}, 'import',
    {import_id}
FROM (
    SELECT m.to_number, min((m.sent_at << {bits}) | pool.rank) AS text
    FROM messages AS m
    -- "+": scan the new rows in order rather than look them up by sender
    JOIN pool ON pool.number = +m.from_number
    WHERE ({new_messages}) AND m.outbound = 1
      AND m.detail <> 'canceled'
    GROUP BY m.to_number
) AS first
JOIN pool ON pool.rank = first.text & {mask}
WHERE true
ON CONFLICT (contact) DO UPDATE SET number = excluded.number, since = excluded.since
WHERE contacts.source = 'import' AND contacts.import_id IN ({open_imports})
  AND (excluded.since, excluded.number) < (contacts.since, contacts.number)
"""

# The message ids that hold some keys (a JSON array) for one provider, to
# tell a later record of a stored message from a different message that has
# the same key.
KEY_HOLDERS = """
SELECT message_key, message_id, id FROM messages
WHERE message_key IN (SELECT value FROM json_each(?)) AND provider = ?
"""

# An imported outbound text uses up the oldest unmatched pick of the same
# sender and recipient made up to 24 h before it (or 5 minutes after, for
# clock skew); texts are matched in the order of the file (see _match_picks).
TEXTS_WITH_OPEN_PICKS = """
SELECT m.id, m.from_number, m.to_number, m.sent_at, m.message_id FROM messages AS m
WHERE m.id > ? AND m.outbound = 1 AND EXISTS (
    SELECT 1 FROM picks AS p WHERE p.message_rowid IS NULL
      AND p.from_number = m.from_number AND p.to_number = m.to_number)
"""
MATCH_PICK = """
UPDATE picks SET message_rowid = :id
WHERE id = (
    SELECT id FROM picks
    WHERE message_rowid IS NULL
      AND from_number = :from_number AND to_number = :to_number
      AND picked_at > :sent_at - 86400 AND picked_at <= :sent_at + 300
    ORDER BY picked_at, id LIMIT 1
)
"""

INSERT_OPTOUT_EVENT = """
INSERT INTO optout_events (contact, opted_out, at, source, provider, message_id)
VALUES (?, ?, ?, ?, '{provider}', ?) ON CONFLICT DO NOTHING
"""

UPDATE_LEDGER = """
UPDATE imports SET rows_read = ?, added = ?, updated = ?, unchanged = ?,
    rejected = ?, outside_pool = ?
WHERE id = ?
"""


def outbound_tallies(rows: list[tuple]) -> dict[tuple[str, str, str], int]:
    """What new ``rows`` add to the tallies: outbound texts per sender, day
    and detail."""
    tallies: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if row[ROW_OUTBOUND]:
            key = (row[ROW_FROM], row[ROW_LOCAL_DAY], row[ROW_DETAIL])
            tallies[key] = tallies.get(key, 0) + 1
    return tallies


class BatchWriter:
    """Writes one file's rows a chunk at a time, committing as they add up.

    Commits come after ``first_commit_rows`` rows, then after twice as many
    each time, up to ``most_commit_rows``.

    ``result`` (a run.FileResult) gets the added, updated, unchanged and
    outside-the-pool counts, and the first senders from outside the pool,
    as chunks are stored, and the ledger row takes
    all its counts with every commit.
    """

    def __init__(
        self,
        store: Store,
        provider: str,
        import_id: int,
        result,
        first_commit_rows: int,
        most_commit_rows: int,
    ):
        self.store = store
        self.conn: sqlite3.Connection = store.conn
        self.provider = provider
        self.import_id = import_id
        self.result = result
        self.commit_rows = first_commit_rows
        self.most_commit_rows = most_commit_rows
        self.insert = insert_sql(provider, import_id)
        self.merge = merge_sql(provider, import_id)
        self.insert_overflow = insert_sql(provider, import_id, overflow=True)
        self.merge_overflow = merge_sql(provider, import_id, overflow=True)
        self.optout_event = INSERT_OPTOUT_EVENT.format(provider=provider)
        self.pool: set[str] = set()
        self.in_transaction = False
        self.uncommitted = 0
        self.mostly_stored = False  # whether the last chunk was mostly stored rows
        found = self.conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            (INSERT_TRIGGER,),
        ).fetchone()
        self.insert_trigger: str | None = found[0] if found else None

    def _max_id(self) -> int:
        return self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM messages"
        ).fetchone()[0]

    def _begin(self) -> None:
        self.store.begin()
        self.in_transaction = True
        if self.insert_trigger:
            self.conn.execute(f"DROP TRIGGER {INSERT_TRIGGER}")
        self.pool = {
            row[0]
            for row in self.conn.execute(
                "SELECT number FROM numbers WHERE removed_at IS NULL"
            )
        }

    def write(
        self,
        chunk: list[tuple],
        events: list[tuple],
        tallies: dict[tuple[str, str, str], int] | None = None,
        repeats: bool = False,
    ) -> None:
        """Store ``chunk`` (each message at most once) and its opt-out ``events``.

        ``tallies`` may give ``outbound_tallies(chunk)``, worked out where the
        rows were read; they are used when every row of the chunk is new.
        With ``repeats``, the chunk holds further records of messages stored
        by the chunks before, and is no guide to the next chunk.
        """
        if not self.in_transaction:
            self._begin()
        conn, result = self.conn, self.result
        if chunk:
            before = self._max_id()
            if self.mostly_stored or repeats:
                new, at_key, keyless = self._store_looking_up_first(chunk, before)
            else:
                new, at_key, keyless = self._store_inserting_first(chunk, before)
            if len(new) != len(chunk):
                tallies = None
            # A file imported again is stored rows nearly throughout, a new one
            # new rows: the next chunk is likely to be as this one was.
            if not repeats:
                self.mostly_stored = 2 * len(new) < len(chunk)
            changed = conn.executemany(self.merge, at_key).rowcount if at_key else 0
            if keyless:
                changed += conn.executemany(self.merge_overflow, keyless).rowcount
            if new:
                self._add_tallies(outbound_tallies(new) if tallies is None else tallies)
                self._match_picks(before, chunk)
            outside = [
                row[ROW_FROM]
                for row in chunk
                if row[ROW_OUTBOUND] and row[ROW_FROM] not in self.pool
            ]
            result.added += len(new)
            result.updated += changed
            result.unchanged += len(at_key) + len(keyless) - changed
            result.outside_pool += len(outside)
            self._name_outside_senders(outside)
        if events:
            conn.executemany(self.optout_event, events)
        self.uncommitted += len(chunk)
        if self.uncommitted >= self.commit_rows:
            self.commit()

    def _name_outside_senders(self, outside: list[str]) -> None:
        """Name in the result the first OUTSIDE_POOL_SHOWN senders from
        outside the pool, and whether there are more; ``outside`` holds the
        senders of a chunk's texts from outside it (a few of them are
        looked at)."""
        result = self.result
        for number in list(dict.fromkeys(outside[:1000]))[:10]:
            if number in result.outside_numbers:
                continue
            if len(result.outside_numbers) >= OUTSIDE_POOL_SHOWN:
                result.more_outside_numbers = True
                return
            result.outside_numbers.append(number)

    def _store_inserting_first(
        self, chunk: list[tuple], before: int
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Insert every row of ``chunk``, then sort out those whose key was
        taken (see _sort_out, which gives the result)."""
        # In key order, a chunk's inserts walk the key index once. While that
        # index fits the page cache, sorting costs a little more than it saves
        # (0.2 s a million rows); in a database of millions of messages it
        # saves more (about 1 s a million).
        in_key_order = sorted(chunk, key=itemgetter(ROW_KEY))
        added = self.conn.executemany(self.insert, in_key_order).rowcount
        if added == len(chunk):
            return chunk, [], []
        return self._sort_out(chunk, before, added)

    def _store_looking_up_first(
        self, chunk: list[tuple], before: int
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Look up which keys of ``chunk`` are taken, and insert only the rest.

        Cheaper than inserting first when most rows are stored already: an
        insert that fails costs about as much as one that does not. Gives
        what _sort_out gives.
        """
        free, at_key, taken = self._by_key_holder(chunk, inserted=False)
        in_key_order = sorted(free, key=itemgetter(ROW_KEY))
        added = self.conn.executemany(self.insert, in_key_order).rowcount if free else 0
        if added != len(free):
            # A key held under another provider, or shared by two messages of
            # this chunk: sorted out as after a failed insert.
            return self._sort_out(chunk, before, added)
        added_ids = {row[ROW_ID] for row in free}
        keyless = self._store_without_key(taken, added_ids)
        new = [row for row in chunk if row[ROW_ID] in added_ids]
        return new, at_key, keyless

    def _sort_out(
        self, chunk: list[tuple], before: int, added: int
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Tell apart the rows of ``chunk`` whose key was taken, and store the new.

        ``added`` rows were stored since ``before``; every other row of
        ``chunk`` has its key held by a stored message. A row whose key is
        held by its own message is a later record of it. A row whose key is
        held by a different message is stored without a key, unless its
        message is stored so already.
        Returns the rows added (all rows stored since ``before``), the rows
        of messages stored at their key, each followed by the stored
        message's id, and, without their key, the rows of messages stored
        without one.
        """
        added_ids = self._ids_added_since(before) if added else set()
        rest = [row for row in chunk if row[ROW_ID] not in added_ids]
        _, at_key, taken = self._by_key_holder(rest, inserted=True)
        keyless = self._store_without_key(taken, added_ids)
        new = [row for row in chunk if row[ROW_ID] in added_ids]
        return new, at_key, keyless

    def _by_key_holder(
        self, rows: list[tuple], inserted: bool
    ) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """``rows`` split by what holds their key: nothing of this provider
        (free); their own message (the row then followed by its id); another
        message (taken: the row then without its key). Rows an insert did
        not store (``inserted``) are never free: a message of another
        provider holds the key then."""
        keys = json.dumps([row[ROW_KEY] for row in rows])
        holders = {
            key: (message_id, stored_id)
            for key, message_id, stored_id in self.conn.execute(
                KEY_HOLDERS, (keys, self.provider)
            )
        }
        free, at_key, taken = [], [], []
        for row in rows:
            holder = holders.get(row[ROW_KEY])
            if holder is None and not inserted:
                free.append(row)
            elif holder is not None and holder[0] == row[ROW_ID]:
                at_key.append((*row, holder[1]))
            else:
                taken.append(row[:ROW_KEY])
        return free, at_key, taken

    def _store_without_key(self, taken: list[tuple], added_ids: set[str]) -> list:
        """Store the ``taken`` rows (given without their key) without a key,
        unless their message is stored so already; their ids join
        ``added_ids``. Returns the rows of messages already stored so."""
        if not taken:
            return []
        before = self._max_id()
        inserted = self.conn.executemany(self.insert_overflow, taken).rowcount
        if inserted == len(taken):
            added_ids.update(row[ROW_ID] for row in taken)
            return []
        added_ids |= self._ids_added_since(before)
        return [row for row in taken if row[ROW_ID] not in added_ids]

    def _ids_added_since(self, before: int) -> set[str]:
        return {
            row[0]
            for row in self.conn.execute(
                "SELECT message_id FROM messages WHERE id > ?", (before,)
            )
        }

    def _add_tallies(self, tallies: dict[tuple[str, str, str], int]) -> None:
        self.conn.executemany(ADD_TALLIES, [(*key, n) for key, n in tallies.items()])

    def _match_picks(self, before: int, chunk: list[tuple]) -> None:
        conn = self.conn
        if not conn.execute(
            "SELECT 1 FROM picks WHERE message_rowid IS NULL LIMIT 1"
        ).fetchone():
            return
        texts = conn.execute(TEXTS_WITH_OPEN_PICKS, (before,)).fetchall()
        if len(texts) > 1:
            # The rows went in by key; their picks go in the file's order.
            wanted = {text[4] for text in texts}
            order = {
                row[ROW_ID]: position
                for position, row in enumerate(chunk)
                if row[ROW_ID] in wanted
            }
            texts.sort(key=lambda text: order[text[4]])
        for text in texts:
            conn.execute(
                MATCH_PICK,
                dict(zip(("id", "from_number", "to_number", "sent_at"), text)),
            )

    def commit(self) -> None:
        """Commit what is stored so far, with the ledger's counts."""
        if not self.in_transaction:
            self._begin()
        result = self.result
        self.conn.execute(
            UPDATE_LEDGER,
            (
                result.rows_read,
                result.added,
                result.updated,
                result.unchanged,
                result.rejected,
                result.outside_pool,
                self.import_id,
            ),
        )
        if self.insert_trigger:
            self.conn.execute(self.insert_trigger)
        self.conn.execute("COMMIT")
        self.in_transaction = False
        self.uncommitted = 0
        self.commit_rows = min(self.commit_rows * 2, self.most_commit_rows)

    def finish(self) -> None:
        """Make the file's contacts sticky, and commit the last counts."""
        if not self.in_transaction:
            self._begin()
        open_imports = self._open_imports()
        new_messages, bounds = self._new_messages(open_imports)
        bits = len(self.pool).bit_length()  # self.pool is read in this transaction
        sql = STICKY_CONTACTS.format(
            import_id=self.import_id,
            open_imports=", ".join(str(i) for i in open_imports),
            new_messages=new_messages,
            bits=bits,
            mask=(1 << bits) - 1,
        )
        # SQLite sorts in as much memory as the page cache may hold; with a
        # small cache the sort spills to temporary files instead, and memory
        # stays where the import kept it. The file is read by now, so the
        # sort may take other cores for its merges.
        cache = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        threads = self.conn.execute("PRAGMA threads").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
        self.conn.execute(f"PRAGMA threads = {SORT_THREADS}")
        try:
            self.conn.execute(sql, bounds)
        finally:
            self.conn.execute(f"PRAGMA cache_size = {int(cache)}")
            self.conn.execute(f"PRAGMA threads = {int(threads)}")
        self.commit()

    def abort(self) -> None:
        """Roll back what is not committed (the rerun will store it)."""
        if self.in_transaction:
            self.conn.execute("ROLLBACK")
            self.in_transaction = False

    def _open_imports(self) -> list[int]:
        """This import, and the killed imports of the same file it reruns."""
        killed = [
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM imports WHERE finished_at IS NULL AND id <> :me "
                "AND file = (SELECT file FROM imports WHERE id = :me) "
                "AND id > coalesce((SELECT max(id) FROM imports WHERE finished_at "
                "IS NOT NULL AND file = (SELECT file FROM imports WHERE id = :me)), 0)",
                {"me": self.import_id},
            )
        ]
        return [self.import_id, *killed]

    def _new_messages(self, open_imports: list[int]) -> tuple[str, list[int]]:
        """A condition on ``m.id`` true of the messages ``open_imports``
        stored new, and its parameters. One import runs at a time, so an
        import's new messages are the ids from its first_message_id up to
        the next import's."""
        terms, bounds = [], []
        for import_id in open_imports:
            first, end = self.conn.execute(
                "SELECT first_message_id, (SELECT min(later.first_message_id) "
                "FROM imports AS later WHERE later.id > imports.id) "
                "FROM imports WHERE id = ?",
                (import_id,),
            ).fetchone()
            if first is None:
                # Recorded before imports had first_message_id (m004). Only
                # after a kill, so a scan of the table is affordable here; it
                # may take in older messages that import merely updated.
                first = self.conn.execute(
                    "SELECT min(id) FROM messages WHERE import_id = ?", (import_id,)
                ).fetchone()[0]
                if first is not None:
                    terms.append(f"(m.id >= ? AND m.import_id = {int(import_id)})")
                    bounds.append(first)
            elif end is None:
                terms.append("m.id >= ?")
                bounds.append(first)
            else:
                terms.append("(m.id >= ? AND m.id < ?)")
                bounds += [first, end]
        return " OR ".join(terms), bounds
