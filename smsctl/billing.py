"""Billing periods, allotment, overage, number fees and the forecast."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from .clock import epoch_of, local_midnight
from .errors import UsageError
from .figures import counts_by_number, today
from .settings import Settings, load_settings
from .store import Store

CENT = Decimal("0.01")
MAX_HISTORY = 600  # fifty years of monthly periods


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
    """An amount rounded half-up to the cent, for showing; exact until then."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def overage(total_sent: int, allotment: int) -> int:
    """Messages sent beyond the allotment, never negative."""
    return max(0, total_sent - allotment)


def forecast_total(total: int, elapsed_seconds: int, length_seconds: int) -> int:
    """Total so far × period length ÷ time elapsed, half-up to a whole message.

    A period that has not started or has already ended is not extrapolated:
    its forecast is what was sent.
    """
    if elapsed_seconds <= 0 or elapsed_seconds >= length_seconds:
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
    fee_numbers: int = 0
    number_fee: Decimal = Decimal(0)

    def as_dict(self) -> dict:
        """The period with DESIGN's JSON field names; money as strings."""
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
    """Numbers other than the main line in the pool at any time in [start, end).

    A number removed during the period is charged for it in full; one that
    left and came back is charged once.
    """
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
    """Totals, overage, fees and forecast of the billing period holding ``day``."""
    settings = settings or load_settings(store)
    start, end = billing_period(day, settings["billing.closing_day"])
    zone_name = settings["billing.timezone"]
    start_at = local_midnight(start, zone_name)
    end_at = local_midnight(end + timedelta(days=1), zone_name)
    total = sum(c.total_sent for c in counts_by_number(store, start, end).values())
    allotment = settings["billing.allotment"]
    rate = settings["billing.overage_rate"]
    projected = forecast_total(total, epoch_of(now) - start_at, end_at - start_at)
    fee_numbers = fee_bearing_numbers(store, start_at, end_at)
    number_fee = settings["billing.number_fee"]
    return PeriodFigures(
        period_start=start,
        period_end=end,
        total_sent=total,
        allotment=allotment,
        overage=overage(total, allotment),
        overage_charge=overage(total, allotment) * rate,
        currency=settings["billing.currency"],
        number_fee_total=fee_numbers * number_fee,
        projected_total=projected,
        projected_overage=overage(projected, allotment),
        projected_charge=overage(projected, allotment) * rate,
        fee_numbers=fee_numbers,
        number_fee=number_fee,
    )


def current_period_days(store: Store, now: datetime) -> tuple[date, date]:
    """First and last day of the billing period holding today."""
    settings = load_settings(store)
    return billing_period(today(now, settings), settings["billing.closing_day"])


def counted_days(
    store: Store, now: datetime, since: date | None = None, all_time: bool = False
) -> tuple[date | None, date | None]:
    """The days a listing counts, inclusive: the current billing period by
    default, ``since`` to today, or (None, None) for all time."""
    if since is not None and all_time:
        raise UsageError("use --since DATE or --all-time, not both")
    if all_time:
        return None, None
    if since is None:
        return current_period_days(store, now)
    last = today(now, load_settings(store))
    if since > last:
        raise UsageError(f"--since {since} is after today ({last})")
    return since, last


def overview(store: Store, now: datetime, day: date | None = None) -> PeriodFigures:
    """The billing period holding ``day``, today by default."""
    settings = load_settings(store)
    return period_figures(store, day or today(now, settings), now, settings)


def overview_history(
    store: Store, now: datetime, periods: int, day: date | None = None
) -> list[PeriodFigures]:
    """The period holding ``day`` (default today) and those before it, newest first."""
    if not 1 <= periods <= MAX_HISTORY:
        raise UsageError(f"--history must be from 1 to {MAX_HISTORY}, not {periods}")
    settings = load_settings(store)
    day = day or today(now, settings)
    history = []
    for _ in range(periods):
        figures = period_figures(store, day, now, settings)
        history.append(figures)
        day = figures.period_start - timedelta(days=1)
    return history
