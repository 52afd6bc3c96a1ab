"""The pool of send-from numbers: creating it, adding, availability, removal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .clock import local_zone_name, now_epoch
from .errors import RuleError, UsageError
from .phones import normalize_phone
from .store import Store, create_store


@dataclass(frozen=True)
class PoolNumber:
    number: str
    is_main: bool
    available: bool
    added_at: int
    removed_at: int | None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None


def init_database(path: Path, main_phone: str) -> str:
    """Create the database at ``path`` with ``main_phone`` as its main line."""
    main = normalize_phone(main_phone, "main line")
    store = create_store(path)
    try:
        zone_name = local_zone_name()
        with store.transaction() as conn:
            conn.executemany(
                "INSERT INTO settings (key, value) VALUES (?, ?)",
                [("billing.timezone", zone_name), ("import.timezone", zone_name)],
            )
            _insert_number(conn, main, is_main=True, available=True, at=now_epoch())
    finally:
        store.close()
    return main


def _insert_number(conn, number: str, is_main: bool, available: bool, at: int) -> None:
    conn.execute(
        "INSERT INTO numbers (number, is_main, available, added_at) "
        "VALUES (?, ?, ?, ?)",
        (number, int(is_main), int(available), at),
    )
    conn.execute(
        "INSERT INTO memberships (number, added_at) VALUES (?, ?)", (number, at)
    )


def _row_to_number(row) -> PoolNumber:
    number, is_main, available, added_at, removed_at = row
    return PoolNumber(number, bool(is_main), bool(available), added_at, removed_at)


NUMBER_COLUMNS = "number, is_main, available, added_at, removed_at"


def find_number(store: Store, number: str) -> PoolNumber | None:
    row = store.one(f"SELECT {NUMBER_COLUMNS} FROM numbers WHERE number = ?", (number,))
    return None if row is None else _row_to_number(row)


def pool_number(store: Store, phone: str) -> PoolNumber:
    """The number ``phone`` as it stands in the pool, or a refusal saying so."""
    number = normalize_phone(phone)
    found = find_number(store, number)
    if found is None or found.removed:
        raise RuleError(
            f"{number} is not in the pool; add it with 'smsctl numbers add {number}'"
        )
    return found


def known_number(store: Store, phone: str) -> PoolNumber:
    """The number ``phone`` if it is or ever was in the pool, else a refusal."""
    number = normalize_phone(phone)
    found = find_number(store, number)
    if found is None:
        raise RuleError(
            f"{number} has never been in the pool; add it with "
            f"'smsctl numbers add {number}'"
        )
    return found


def all_numbers(store: Store) -> list[PoolNumber]:
    """Every number ever in the pool, main line first, then oldest first."""
    rows = store.execute(
        f"SELECT {NUMBER_COLUMNS} FROM numbers ORDER BY is_main DESC, added_at, number"
    )
    return [_row_to_number(row) for row in rows]


def add_number(store: Store, phone: str, available: bool = True) -> PoolNumber:
    """Add ``phone`` to the pool; a removed number comes back with its history."""
    number = normalize_phone(phone)
    at = now_epoch()
    with store.transaction() as conn:
        existing = find_number(store, number)
        if existing is not None and not existing.removed:
            raise RuleError(f"{number} is already in the pool")
        if existing is None:
            _insert_number(conn, number, is_main=False, available=available, at=at)
        else:
            conn.execute(
                "UPDATE numbers SET available = ?, added_at = ?, removed_at = NULL "
                "WHERE number = ?",
                (int(available), at, number),
            )
            conn.execute(
                "INSERT INTO memberships (number, added_at) VALUES (?, ?) "
                "ON CONFLICT DO UPDATE SET removed_at = NULL",
                (number, at),
            )
    return find_number(store, number)


def set_available(store: Store, phone: str, available: bool) -> PoolNumber:
    with store.transaction() as conn:
        found = pool_number(store, phone)
        conn.execute(
            "UPDATE numbers SET available = ? WHERE number = ?",
            (int(available), found.number),
        )
    return find_number(store, found.number)


def remove_number(
    store: Store, phone: str, reassign_drips_to: str | None = None
) -> dict:
    """Take a number out of the pool, keeping its history.

    Refused for the main line, and for a number with active drips unless they
    are moved to ``reassign_drips_to`` first. Its sticky contacts are
    forgotten. Returns what was done.
    """
    from .drips import active_drips_of

    with store.transaction() as conn:
        found = pool_number(store, phone)
        if found.is_main:
            raise RuleError(f"{found.number} is the main line and cannot be removed")
        target = None
        if reassign_drips_to is not None:
            target = pool_number(store, reassign_drips_to)
            if target.number == found.number:
                raise UsageError(
                    "--reassign-drips-to must name another number in the pool"
                )
        active = active_drips_of(store, found.number)
        if active and target is None:
            listed = ", ".join(f"#{d.id} {d.name}" for d in active)
            raise RuleError(
                f"{found.number} has active drips ({listed}); end them or use "
                "--reassign-drips-to PHONE"
            )
        moved = 0
        if target is not None:
            moved = conn.execute(
                "UPDATE drips SET number = ? WHERE number = ? AND status <> 'ended'",
                (target.number, found.number),
            ).rowcount
        forgotten = conn.execute(
            "DELETE FROM contacts WHERE number = ?", (found.number,)
        ).rowcount
        at = now_epoch()
        conn.execute(
            "UPDATE numbers SET removed_at = ?, available = 0 WHERE number = ?",
            (at, found.number),
        )
        conn.execute(
            "UPDATE memberships SET removed_at = ? "
            "WHERE number = ? AND removed_at IS NULL",
            (at, found.number),
        )
    return {
        "number": found.number,
        "drips_moved": moved,
        "drips_moved_to": target.number if target else None,
        "contacts_forgotten": forgotten,
    }
