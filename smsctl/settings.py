"""The settings named in DESIGN.md: their defaults, checks and storage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable

from .clock import zone
from .errors import UsageError
from .store import Store


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def check(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise ValueError(f"a whole number {span}")
        return value

    return check


def _decimal(low: Decimal, high: Decimal | None = None) -> Callable[[str], Decimal]:
    def check(text: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise ValueError("a decimal number such as 0.01") from None
        if not value.is_finite() or value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise ValueError(f"a decimal number {span}")
        return value

    return check


def _zone_name(text: str) -> str:
    name = text.strip()
    try:
        zone(name)
    except UsageError:
        raise ValueError("an IANA time zone such as America/New_York") from None
    return name


def _currency(text: str) -> str:
    code = text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError("a three-letter currency code such as USD")
    return code


QUIET_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")


def _quiet_hours(text: str) -> str:
    value = text.strip()
    if not QUIET_HOURS.fullmatch(value):
        raise ValueError("a span HH:MM-HH:MM such as 21:00-08:00")
    return value


@dataclass(frozen=True)
class Setting:
    key: str
    default: str
    parse: Callable[[str], object]
    help: str


# Defaults of the two time-zone settings are filled in by ``init``.
SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in [
        Setting(
            "billing.closing_day",
            "1",
            _whole(1, 31),
            "day of the month invoices close (past the month's end: its last day)",
        ),
        Setting(
            "billing.allotment",
            "1000",
            _whole(0),
            "messages included per billing period",
        ),
        Setting(
            "billing.overage_rate",
            "0.01",
            _decimal(Decimal(0)),
            "charge per message beyond the allotment",
        ),
        Setting("billing.currency", "USD", _currency, "currency of all charges"),
        Setting(
            "billing.number_fee",
            "0",
            _decimal(Decimal(0)),
            "fee per period for each number other than the main line",
        ),
        Setting(
            "billing.timezone",
            "UTC",
            _zone_name,
            "time zone of calendar dates and billing periods",
        ),
        Setting(
            "health.window_days",
            "15",
            _whole(1, 366),
            "days of delivered and blocked texts that health looks at",
        ),
        Setting(
            "pick.health_floor",
            "70",
            _decimal(Decimal(0), Decimal(100)),
            "health below which a number is unhealthy",
        ),
        Setting(
            "pick.health_min_messages",
            "20",
            _whole(0),
            "delivered-or-blocked texts needed before a number can be unhealthy",
        ),
        Setting(
            "pick.daily_cap",
            "150",
            _whole(0),
            "texts per number per 24 hours before it takes no new contacts (0: none)",
        ),
        Setting(
            "pick.quiet_hours",
            "21:00-08:00",
            _quiet_hours,
            "recipient-local hours reported as quiet (start included, end not)",
        ),
        Setting(
            "import.timezone",
            "UTC",
            _zone_name,
            "time zone of file times that carry none",
        ),
        Setting(
            "import.wait_seconds",
            "600",
            _whole(0),
            "how long an import waits for another to finish",
        ),
    ]
}


def setting_for(key: str) -> Setting:
    """The setting named ``key``; an unknown key is bad usage."""
    try:
        return SETTINGS[key]
    except KeyError:
        known = ", ".join(SETTINGS)
        raise UsageError(f"unknown setting {key!r}; known settings: {known}") from None


def parse_value(key: str, text: str) -> object:
    """``text`` as a value of ``key``, or a UsageError saying what it must be."""
    setting = setting_for(key)
    try:
        return setting.parse(text)
    except ValueError as exc:
        raise UsageError(f"{key} must be {exc}, not {text!r}") from None


class Settings:
    """The stored settings, read once, typed on access."""

    def __init__(self, stored: dict[str, str]):
        self.raw = {key: stored.get(key, s.default) for key, s in SETTINGS.items()}

    def __getitem__(self, key: str):
        return SETTINGS[key].parse(self.raw[key])


def load_settings(store: Store) -> Settings:
    """Every setting: the stored value, else its default."""
    return Settings(dict(store.execute("SELECT key, value FROM settings").fetchall()))


def list_settings(store: Store) -> list[dict]:
    """Each setting's key, current value, default and meaning."""
    current = load_settings(store).raw
    return [
        {"key": key, "value": current[key], "default": s.default, "help": s.help}
        for key, s in SETTINGS.items()
    ]


def get_setting(store: Store, key: str) -> str:
    """The current value of ``key`` as stored (or its default)."""
    setting_for(key)
    return load_settings(store).raw[key]


def store_setting(store: Store, key: str, text: str) -> str:
    """Check and save one setting; returns the value as stored.

    A new billing.timezone re-dates every message's calendar day in the same
    transaction. It waits for a running import first, so that no import goes
    on dating messages in the old zone.
    """
    value = parse_value(key, text)
    stored = format(value, "f") if isinstance(value, Decimal) else str(value)
    if key != "billing.timezone":
        _save(store, key, stored)
        return stored

    from .importing.lock import import_lock
    from .tallies import rebuild_local_days

    wait = load_settings(store)["import.wait_seconds"]
    with import_lock(store.path, wait, f"smsctl config set {key} {stored}"):
        with store.transaction() as conn:
            _save_in(conn, key, stored)
            rebuild_local_days(conn, stored)
    return stored


def _save(store: Store, key: str, stored: str) -> None:
    with store.transaction() as conn:
        _save_in(conn, key, stored)


def _save_in(conn, key: str, stored: str) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, stored),
    )
