"""How listings look as tables: columns, titles and cell text."""

from __future__ import annotations

from ..billing import PeriodFigures, money
from ..render import Column, plain, sparkline, stacked_bar

UNHEALTHY_MARK = "!"


def _available(value, row) -> str:
    if row.get("removed"):
        return "removed"
    return "[x]" if value else "[ ]"


def _health(value, row) -> str:
    mark = f" {UNHEALTHY_MARK}" if row.get("unhealthy") else "  "
    return ("—" if value is None else f"{value:.1f}") + mark


def _number(value, row) -> str:
    return f"{value} (main)" if row.get("is_main") else value


NUMBER_COLUMNS = [
    Column("available", "Available", _available),
    Column("health", "Health", _health, justify="right"),
    Column("number", "SMS Number", _number),
    Column("state", "State/Prov."),
    Column("date_added", "Date Added"),
    Column("active_drips", "Active Drips", justify="right"),
    Column("total_sent", "Total Sent", justify="right"),
    Column("delivered", "Delivered", justify="right"),
    Column("undelivered", "Undelivered", justify="right"),
    Column("blocked", "Blocked", justify="right"),
]

OVERVIEW_COLUMNS = [
    Column("period_start", "Period Start"),
    Column("period_end", "Period End"),
    Column("total_sent", "Total Sent", justify="right"),
    Column("allotment", "Allotment", justify="right"),
    Column("overage", "Overage", justify="right"),
    Column("overage_charge", "Overage Charge", justify="right"),
    Column("number_fee_total", "Number Fees", justify="right"),
    Column("projected_total", "Projected Total", justify="right"),
    Column("projected_charge", "Projected Charge", justify="right"),
]


def overview_pairs(figures: PeriodFigures) -> list[tuple[str, str]]:
    """The lines of the Sent SMS Messages Overview, number fees on their own."""
    currency = figures.currency

    def amount(value) -> str:
        return f"{money(value)} {currency}"

    fees = amount(figures.number_fee_total)
    if figures.fee_numbers and figures.number_fee:
        count = figures.fee_numbers
        plural = "number" if count == 1 else "numbers"
        fees += f" ({count} {plural} × {money(figures.number_fee)})"
    return [
        ("Billing Period", f"{figures.period_start} to {figures.period_end}"),
        ("Total Messages Sent", f"{figures.total_sent:,} of {figures.allotment:,}"),
        ("Overage", f"{figures.overage:,}"),
        ("Overage Charge", amount(figures.overage_charge)),
        ("Number Fees", fees),
        ("Projected Total", f"{figures.projected_total:,}"),
        ("Projected Overage", f"{figures.projected_overage:,}"),
        ("Projected Charge", amount(figures.projected_charge)),
    ]


def trend_pairs(trend: list[dict]) -> list[tuple[str, str]]:
    """The daily trend as sparklines, one character a day, oldest first."""
    return [
        ("Trend", f"{trend[0]['date']} to {trend[-1]['date']}"),
        ("Sent / day", "|" + sparkline([d["sent"] for d in trend]) + "|"),
        ("Blocked / day", "|" + sparkline([d["blocked"] for d in trend]) + "|"),
        (
            "Health / day",
            "|"
            + sparkline([d["health"] for d in trend], top=100, blank_zero=False)
            + "|",
        ),
    ]


def trend_rows(trend: list[dict]) -> list[dict]:
    """The trend's days, each with a bar of its texts scaled to the busiest day."""
    top = max((day["sent"] for day in trend), default=0)
    return [
        {**day, "bar": stacked_bar(day["sent"], day["blocked"], top)} for day in trend
    ]


DRIP_COLUMNS = [
    Column("id", "ID", justify="right"),
    Column("name", "Name"),
    Column("number", "From"),
    Column("status", "Status"),
    Column("created_at", "Created"),
]

OPTOUT_COLUMNS = [
    Column("number", "Number"),
    Column("source", "Source"),
    Column("at", "Since"),
]

HISTORY_COLUMNS = [
    Column("id", "ID", justify="right"),
    Column("file", "File"),
    Column("sha256", "SHA-256", hidden=True),
    Column("provider", "Provider"),
    Column("started_at", "Started"),
    Column("finished_at", "Finished", lambda v, r: plain(v) if v else "unfinished"),
    Column("rows_read", "Read", justify="right"),
    Column("added", "Added", justify="right"),
    Column("updated", "Updated", justify="right"),
    Column("unchanged", "Unchanged", justify="right"),
    Column("rejected", "Rejected", justify="right"),
]

SETTING_COLUMNS = [
    Column("key", "Key"),
    Column("value", "Value"),
    Column("default", "Default"),
    Column("help", "Meaning"),
]

TREND_COLUMNS = [
    Column("date", "Date"),
    Column("sent", "Sent", justify="right"),
    Column("blocked", "Blocked", justify="right"),
    Column(
        "health",
        "Health",
        lambda v, r: "—" if v is None else f"{v:.1f}",
        justify="right",
    ),
    Column("bar", "█ sent, ░ of which blocked"),
]
