"""Per-day message tallies: the day each message falls on in billing.timezone.

Triggers in the schema keep ``tallies`` equal to a GROUP BY over outbound
messages; this module only decides which calendar day a message belongs to.
"""

from __future__ import annotations

import sqlite3

from .clock import LocalDays


def rebuild_local_days(conn: sqlite3.Connection, zone_name: str) -> int:
    """Re-date every message in ``zone_name``; returns how many moved day.

    Runs inside the caller's transaction, so a changed billing.timezone and
    the re-dated tallies commit together.
    """
    day_of = LocalDays(zone_name)
    changed = [
        (day_of(sent_at), message_rowid)
        for message_rowid, sent_at, local_day in conn.execute(
            "SELECT id, sent_at, local_day FROM messages"
        )
        if day_of(sent_at) != local_day
    ]
    conn.executemany("UPDATE messages SET local_day = ? WHERE id = ?", changed)
    conn.execute("DELETE FROM tallies WHERE n = 0")
    return len(changed)
