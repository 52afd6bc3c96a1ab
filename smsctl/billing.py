"""Billing periods, allotment, overage, number fees and the forecast."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .clock import epoch_of, local_midnight
from .figures import counts_by_number, today
from .settings import Settings, load_settings
from .store import Store

CENT = Decimal("0.01")


def closing_date(year: int, month: int, closing_day: int) -> date:
    """The closing date in a month; a day past the month's end means its last."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(closing_day, last))


def _month_before(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def billing_period(day: date, closing_day: int) -> tuple[date, date]:
    """The period holding ``day``: the latest closing date on or before it, to
    the day before the next closing date."""
    start = closing_date(day.year, day.month, closing_day)
    if start > day:
        start = closing_date(*_month_before(day.year, day.month), closing_day)
    following = closing_date(*_month_after(start.year, start.month), closing_day)
    return start, following - timedelta(days=1)


def money(amount: Decimal) -> Decimal:
    """An amount rounded half-up to the cent, for showing."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def overage(total_sent: int, allotment: int) -> int:
    return max(0, total_sent - allotment)


def forecast_total(total: int, elapsed_seconds: int, length_seconds: int) -> int:
    """Total so far × period length ÷ time elapsed, half-up to a whole message."""
    if elapsed_seconds <= 0:
        return total
    if elapsed_seconds >= length_seconds:
        return total
    projected = Decimal(total) * length_seconds / Decimal(elapsed_seconds)
    return int(projected.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PeriodFigures:
    period_start: date
    period_end: date
    total_sent: int
    allotment: int
    overage: int
    overage_charge: Decimal
    currency: str
    number_fee_total: Decimal
    projected_total: int
    projected_overage: int
    projected_charge: Decimal

    def as_dict(self) -> dict:
        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "total_sent": self.total_sent,
            "allotment": self.allotment,
            "overage": self.overage,
            "overage_charge": str(money(self.overage_charge)),
            "currency": self.currency,
            "number_fee_total": str(money(self.number_fee_total)),
            "projected_total": self.projected_total,
            "projected_overage": self.projected_overage,
            "projected_charge": str(money(self.projected_charge)),
        }


def fee_bearing_numbers(store: Store, start: int, end: int) -> int:
    """Numbers other than the main line in the pool at any time in [start, end)."""
    return store.scalar(
        "SELECT count(DISTINCT m.number) FROM memberships m "
        "JOIN numbers n USING (number) "
        "WHERE n.is_main = 0 AND m.added_at < ? "
        "AND (m.removed_at IS NULL OR m.removed_at >= ?)",
        (end, start),
    )


def period_figures(
    store: Store, day: date, now: datetime, settings: Settings | None = None
) -> PeriodFigures:
    settings = settings or load_settings(store)
    start, end = billing_period(day, settings["billing.closing_day"])
    zone_name = settings["billing.timezone"]
    start_at = local_midnight(start, zone_name)
    end_at = local_midnight(end + timedelta(days=1), zone_name)
    total = sum(
        c.total_sent for c in counts_by_number(store, start, end).values()
    )
    allotment = settings["billing.allotment"]
    rate = settings["billing.overage_rate"]
    projected = forecast_total(total, epoch_of(now) - start_at, end_at - start_at)
    fees = fee_bearing_numbers(store, start_at, end_at) * settings["billing.number_fee"]
    return PeriodFigures(
        period_start=start,
        period_end=end,
        total_sent=total,
        allotment=allotment,
        overage=overage(total, allotment),
        overage_charge=overage(total, allotment) * rate,
        currency=settings["billing.currency"],
        number_fee_total=fees,
        projected_total=projected,
        projected_overage=overage(projected, allotment),
        projected_charge=overage(projected, allotment) * rate,
    )


def current_period_days(store: Store, now: datetime) -> tuple[date, date]:
    settings = load_settings(store)
    return billing_period(today(now, settings), settings["billing.closing_day"])


def overview(store: Store, now: datetime, day: date | None = None) -> PeriodFigures:
    settings = load_settings(store)
    return period_figures(store, day or today(now, settings), now, settings)


def overview_history(store: Store, now: datetime, periods: int,
                     day: date | None = None) -> list[PeriodFigures]:
    """The period holding ``day`` (default today) and those before it, newest first."""
    settings = load_settings(store)
    day = day or today(now, settings)
    history = []
    for _ in range(periods):
        figures = period_figures(store, day, now, settings)
        history.append(figures)
        day = figures.period_start - timedelta(days=1)
    return history
