"""Per-number figures: health, counts by outcome, and the daily trend."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .clock import DAY, epoch_of, zone
from .drips import active_drip_counts, drips_of
from .numbers import PoolNumber, all_numbers, known_number
from .outcomes import (
    BLOCKED_SPAM,
    DELIVERED,
    SENT_DETAILS,
    UNDELIVERED_DETAILS,
)
from .phones import state_of
from .settings import Settings, load_settings
from .store import Store

ONE_DECIMAL = Decimal("0.1")


def health_percent(delivered: int, blocked: int) -> Decimal | None:
    """100 × delivered / (delivered + blocked), half-up to one decimal."""
    judged = delivered + blocked
    if judged == 0:
        return None
    return (Decimal(100 * delivered) / Decimal(judged)).quantize(
        ONE_DECIMAL, rounding=ROUND_HALF_UP
    )


def is_unhealthy(health: Decimal | None, judged: int, settings: Settings) -> bool:
    """Below the health floor, with enough delivered-or-blocked texts to tell."""
    return (
        health is not None
        and health < settings["pick.health_floor"]
        and judged >= settings["pick.health_min_messages"]
    )


@dataclass(frozen=True)
class Health:
    delivered: int = 0
    blocked: int = 0

    @property
    def judged(self) -> int:
        return self.delivered + self.blocked

    @property
    def percent(self) -> Decimal | None:
        return health_percent(self.delivered, self.blocked)


def health_window(store: Store, now: datetime, settings: Settings) -> tuple[int, int]:
    """The epoch seconds (start, end] of the health window ending at ``now``."""
    end = epoch_of(now)
    return end - settings["health.window_days"] * 86400, end


def health_by_number(
    store: Store, now: datetime, settings: Settings, numbers: list[str] | None = None
) -> dict[str, Health]:
    """Delivered and blocked texts of each number in the health window."""
    start, end = health_window(store, now, settings)
    if numbers is None:
        numbers = [row[0] for row in store.execute("SELECT number FROM numbers")]
    found: dict[str, Health] = {}
    for number in numbers:
        counts = dict(
            store.execute(
                "SELECT detail, count(*) FROM messages "
                "WHERE from_number = ? AND sent_at > ? AND sent_at <= ? "
                "AND detail IN (?, ?) AND outbound = 1 GROUP BY detail",
                (number, start, end, DELIVERED, BLOCKED_SPAM),
            ).fetchall()
        )
        found[number] = Health(counts.get(DELIVERED, 0), counts.get(BLOCKED_SPAM, 0))
    return found


@dataclass
class Counts:
    by_detail: dict[str, int] = field(default_factory=dict)

    def of(self, detail: str) -> int:
        return self.by_detail.get(detail, 0)

    @property
    def delivered(self) -> int:
        return self.of(DELIVERED)

    @property
    def undelivered(self) -> int:
        return sum(self.of(d) for d in UNDELIVERED_DETAILS)

    @property
    def blocked(self) -> int:
        return self.of(BLOCKED_SPAM)

    @property
    def total_sent(self) -> int:
        return sum(self.of(d) for d in SENT_DETAILS)


def counts_by_number(
    store: Store, first_day: date | None, last_day: date | None
) -> dict[str, Counts]:
    """Outbound texts of each pool number by detail, days inclusive (None: open)."""
    sql = (
        "SELECT t.number, t.detail, sum(t.n) FROM tallies t "
        "JOIN numbers USING (number) WHERE 1"
    )
    params: list = []
    if first_day is not None:
        sql += " AND t.day >= ?"
        params.append(first_day.isoformat())
    if last_day is not None:
        sql += " AND t.day <= ?"
        params.append(last_day.isoformat())
    found: dict[str, Counts] = {}
    for number, detail, total in store.execute(sql + " GROUP BY 1, 2", params):
        found.setdefault(number, Counts()).by_detail[detail] = total
    return found


def today(now: datetime, settings: Settings) -> date:
    """The calendar date of ``now`` in billing.timezone."""
    return now.astimezone(zone(settings["billing.timezone"])).date()


def number_row(
    pool: PoolNumber, counts: Counts, health: Health, drips: int, settings: Settings
) -> dict:
    """One row of the SMS Numbers table, with DESIGN's field names."""
    percent = health.percent
    return {
        "number": pool.number,
        "is_main": pool.is_main,
        "available": pool.available,
        "removed": pool.removed,
        "health": None if percent is None else float(percent),
        "unhealthy": is_unhealthy(percent, health.judged, settings),
        "state": state_of(pool.number),
        "date_added": _date_in(pool.added_at, settings).isoformat(),
        "active_drips": drips,
        "total_sent": counts.total_sent,
        "delivered": counts.delivered,
        "undelivered": counts.undelivered,
        "blocked": counts.blocked,
        "undelivered_detail": {d: counts.of(d) for d in UNDELIVERED_DETAILS},
    }


def _date_in(seconds: int, settings: Settings) -> date:
    return datetime.fromtimestamp(seconds, zone(settings["billing.timezone"])).date()


def number_rows(
    store: Store,
    now: datetime,
    first_day: date | None,
    last_day: date | None,
) -> list[dict]:
    """The SMS Numbers table over the given days (None: unbounded).

    Removed numbers are listed only when they have texts in the range, so
    that the rows add up to the overview.
    """
    settings = load_settings(store)
    pool = all_numbers(store)
    counts = counts_by_number(store, first_day, last_day)
    health = health_by_number(store, now, settings, [p.number for p in pool])
    drips = active_drip_counts(store)
    rows = []
    for p in pool:
        sent = counts.get(p.number, Counts())
        if p.removed and not sent.total_sent:
            continue
        rows.append(
            number_row(p, sent, health[p.number], drips.get(p.number, 0), settings)
        )
    return rows


def number_detail(
    store: Store,
    now: datetime,
    phone: str,
    first_day: date | None,
    last_day: date | None,
) -> dict:
    """One number's row plus its sticky contacts, drips and daily trend.

    A removed number is shown too, marked removed, with its history.
    """
    settings = load_settings(store)
    pool = known_number(store, phone)
    counts = counts_by_number(store, first_day, last_day).get(pool.number, Counts())
    health = health_by_number(store, now, settings, [pool.number])[pool.number]
    drips = drips_of(store, pool.number)
    active = sum(d.status == "active" for d in drips)
    row = number_row(pool, counts, health, active, settings)
    row["contacts"] = store.scalar(
        "SELECT count(*) FROM contacts WHERE number = ?", (pool.number,)
    )
    row["drips"] = [{"id": d.id, "name": d.name, "status": d.status} for d in drips]
    row["trend"] = daily_trend(store, pool.number, today(now, settings), settings)
    return row


def daily_trend(
    store: Store, number: str, last_day: date, settings: Settings
) -> list[dict]:
    """Sent, blocked and that day's health for the health.window_days days
    ending on ``last_day``, one entry a day, oldest first."""
    days = settings["health.window_days"]
    first_day = last_day - timedelta(days=days - 1)
    per_day: dict[str, Counts] = {}
    for day, detail, total in store.execute(
        "SELECT day, detail, n FROM tallies WHERE number = ? AND day >= ? AND day <= ?",
        (number, first_day.isoformat(), last_day.isoformat()),
    ):
        per_day.setdefault(day, Counts()).by_detail[detail] = total
    trend = []
    for offset in range(days):
        day = (first_day + offset * DAY).isoformat()
        counts = per_day.get(day, Counts())
        percent = health_percent(counts.delivered, counts.blocked)
        trend.append(
            {
                "date": day,
                "sent": counts.total_sent,
                "blocked": counts.blocked,
                "health": None if percent is None else float(percent),
            }
        )
    return trend
