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
    the re-dated tallies commit together. One UPDATE does the work, so memory
    stays flat however many messages there are; the schema's update trigger
    moves each re-dated message's count to its new day.
    """
    conn.create_function(
        "smsctl_local_day", 1, LocalDays(zone_name), deterministic=True
    )
    moved = conn.execute(
        "UPDATE messages SET local_day = smsctl_local_day(sent_at) "
        "WHERE local_day <> smsctl_local_day(sent_at)"
    ).rowcount
    conn.execute("DELETE FROM tallies WHERE n = 0")
    return moved
