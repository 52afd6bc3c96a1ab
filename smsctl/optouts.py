"""The pool-wide opt-out list: who may not be texted from any pool number.

The list is a log of events (``optout_events``): opted-out outcomes and STOP
or START keywords from imported logs, and ``optouts add`` / ``remove`` by
hand. A contact's latest event, by time and then by insertion order, decides
whether it is opted out. Imported events are keyed by provider and message
id, so importing the same log again adds nothing and cannot undo a later
manual change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .clock import epoch_of, iso_utc
from .phones import normalize_phone
from .store import Store

MANUAL = "manual"

LATEST_EVENT = (
    "SELECT opted_out, at, source FROM optout_events WHERE contact = ? "
    "ORDER BY at DESC, id DESC LIMIT 1"
)

# One correlated, index-ordered lookup per contact: the contact's latest event.
OPTED_OUT_AMONG = """
SELECT candidate.value FROM json_each(?) AS candidate
WHERE (
    SELECT opted_out FROM optout_events
    WHERE contact = candidate.value ORDER BY at DESC, id DESC LIMIT 1
) = 1
"""

CURRENT_OPTOUTS = """
SELECT event.contact, event.source, event.at FROM optout_events AS event
WHERE event.opted_out = 1 AND event.id = (
    SELECT latest.id FROM optout_events AS latest
    WHERE latest.contact = event.contact ORDER BY latest.at DESC, latest.id DESC
    LIMIT 1
)
ORDER BY event.contact
"""


@dataclass(frozen=True)
class OptOutChange:
    """What ``optouts add`` or ``remove`` did to one contact."""

    number: str
    opted_out: bool
    was_opted_out: bool
    recorded: bool


def is_opted_out(store: Store, number: str) -> bool:
    """Whether the E.164 ``number``'s latest opt-out event opts it out."""
    row = store.one(LATEST_EVENT, (number,))
    return bool(row and row[0])


def opted_out_among(store: Store, numbers: Iterable[str]) -> set[str]:
    """The E.164 numbers among ``numbers`` that are opted out, in one query."""
    listed = list(numbers)
    if not listed:
        return set()
    return opted_out_in_json(store, json.dumps(listed))


def opted_out_in_json(store: Store, numbers_json: str) -> set[str]:
    """``opted_out_among`` for numbers given as a JSON array of E.164 texts."""
    return {row[0] for row in store.execute(OPTED_OUT_AMONG, (numbers_json,))}


def add_optout(store: Store, phone: str, now: datetime) -> OptOutChange:
    """Opt ``phone`` out of texts from every pool number, as of ``now``.

    The event is recorded even when the contact is already opted out, so that
    a START imported later but dated before ``now`` cannot opt it back in.
    """
    number = normalize_phone(phone)
    with store.transaction() as conn:
        was = is_opted_out(store, number)
        _record(conn, number, True, now)
    return OptOutChange(number, True, was, recorded=True)


def remove_optout(store: Store, phone: str, now: datetime) -> OptOutChange:
    """Take ``phone`` off the opt-out list, as of ``now``.

    A contact that is not opted out is left alone: recording an opt-in for it
    would silently cancel a STOP it sent earlier that is not imported yet.
    """
    number = normalize_phone(phone)
    with store.transaction() as conn:
        was = is_opted_out(store, number)
        if was:
            _record(conn, number, False, now)
    return OptOutChange(number, False, was, recorded=was)


def _record(conn, number: str, opted_out: bool, now: datetime) -> None:
    conn.execute(
        "INSERT INTO optout_events (contact, opted_out, at, source) "
        "VALUES (?, ?, ?, ?)",
        (number, int(opted_out), epoch_of(now), MANUAL),
    )


def list_optouts(store: Store) -> list[dict]:
    """Every opted-out contact with the source and time (ISO UTC) of the event
    that opted it out, ordered by number."""
    return [
        {"number": number, "source": source, "at": iso_utc(at)}
        for number, source, at in store.execute(CURRENT_OPTOUTS)
    ]
