"""Drip campaigns: a named series of texts sent from one pool number."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import iso_utc, now_epoch
from .errors import RuleError, UsageError
from .numbers import pool_number
from .store import Store

# verb -> (the statuses it applies to, the status it leaves, its past tense)
TRANSITIONS = {
    "pause": ({"active"}, "paused", "paused"),
    "resume": ({"paused"}, "active", "resumed"),
    "end": ({"active", "paused"}, "ended", "ended"),
}


@dataclass(frozen=True)
class Drip:
    id: int
    name: str
    number: str
    status: str
    created_at: int

    def as_dict(self) -> dict:
        """The drip with DESIGN's JSON field names."""
        return {
            "id": self.id,
            "name": self.name,
            "number": self.number,
            "status": self.status,
            "created_at": iso_utc(self.created_at),
        }


DRIP_COLUMNS = "id, name, number, status, created_at"


def add_drip(store: Store, name: str, from_phone: str) -> Drip:
    """Start an active drip sending from ``from_phone``, a number in the pool."""
    name = name.strip()
    if not name:
        raise UsageError(
            "a drip needs a name, e.g. smsctl drips add 'Spring open house' "
            "--from PHONE"
        )
    with store.transaction() as conn:
        sender = pool_number(store, from_phone)
        drip_id = conn.execute(
            "INSERT INTO drips (name, number, status, created_at) "
            "VALUES (?, ?, 'active', ?)",
            (name, sender.number, now_epoch()),
        ).lastrowid
    return get_drip(store, drip_id)


def get_drip(store: Store, drip_id: int) -> Drip:
    """The drip with ``drip_id``; an unknown id is bad usage."""
    row = None
    if 0 < drip_id < 2**63:
        row = store.one(f"SELECT {DRIP_COLUMNS} FROM drips WHERE id = ?", (drip_id,))
    if row is None:
        raise UsageError(f"no drip with id {drip_id}; 'smsctl drips list' shows them")
    return Drip(*row)


def list_drips(store: Store, status: str | None = None) -> list[Drip]:
    """Every drip (or those with ``status``), oldest first."""
    sql = f"SELECT {DRIP_COLUMNS} FROM drips"
    params: tuple = ()
    if status is not None:
        sql += " WHERE status = ?"
        params = (status,)
    return [Drip(*row) for row in store.execute(sql + " ORDER BY id", params)]


def change_drip_status(store: Store, drip_id: int, verb: str) -> Drip:
    """Pause, resume or end a drip; refused when its status does not allow it."""
    applies_to, new_status, done = TRANSITIONS[verb]
    with store.transaction() as conn:
        drip = get_drip(store, drip_id)
        if drip.status not in applies_to:
            which = " or ".join(sorted(applies_to))
            raise RuleError(
                f"drip #{drip.id} {drip.name!r} is {drip.status}; only a drip "
                f"that is {which} can be {done}"
            )
        conn.execute("UPDATE drips SET status = ? WHERE id = ?", (new_status, drip.id))
    return get_drip(store, drip_id)


def active_drips_of(store: Store, number: str) -> list[Drip]:
    """The active drips sending from ``number``, oldest first."""
    rows = store.execute(
        f"SELECT {DRIP_COLUMNS} FROM drips WHERE number = ? AND status = 'active' "
        "ORDER BY id",
        (number,),
    )
    return [Drip(*row) for row in rows]


def drips_of(store: Store, number: str) -> list[Drip]:
    """Every drip of ``number``, whatever its status, oldest first."""
    rows = store.execute(
        f"SELECT {DRIP_COLUMNS} FROM drips WHERE number = ? ORDER BY id", (number,)
    )
    return [Drip(*row) for row in rows]


def active_drip_counts(store: Store) -> dict[str, int]:
    """How many active drips each number has; numbers with none are absent."""
    return dict(
        store.execute(
            "SELECT number, count(*) FROM drips WHERE status = 'active' GROUP BY number"
        ).fetchall()
    )
