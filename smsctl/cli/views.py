"""How listings look as tables: columns, titles and cell text."""

from __future__ import annotations

from ..render import Column, plain


def _available(value, row) -> str:
    if row.get("removed"):
        return "removed"
    return "[x]" if value else "[ ]"


def _health(value, row) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} !" if row.get("unhealthy") else f"{value:.1f}"


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


def overview_pairs(row: dict) -> list[tuple[str, str]]:
    currency = row["currency"]
    return [
        ("Billing Period", f"{row['period_start']} to {row['period_end']}"),
        ("Total Messages Sent", f"{row['total_sent']:,} of {row['allotment']:,}"),
        ("Overage", f"{row['overage']:,}"),
        ("Overage Charge", f"{row['overage_charge']} {currency}"),
        ("Number Fees", f"{row['number_fee_total']} {currency}"),
        ("Projected Total", f"{row['projected_total']:,}"),
        ("Projected Overage", f"{row['projected_overage']:,}"),
        ("Projected Charge", f"{row['projected_charge']} {currency}"),
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
    Column("health", "Health", lambda v, r: plain(v), justify="right"),
]
