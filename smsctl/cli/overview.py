"""smsctl overview: the Sent SMS Messages Overview."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..billing import overview_history
from ..clock import parse_date
from ..render import emit_listing, key_value_table, write_json
from .common import DbOption, FormatOption, OutputFormat, command, current_time, open_db
from .views import OVERVIEW_COLUMNS, overview_pairs

PeriodOption = Annotated[
    Optional[str],
    typer.Option(
        "--period",
        metavar="DATE",
        help="Show the billing period holding DATE (YYYY-MM-DD).",
    ),
]
HistoryOption = Annotated[
    Optional[int],
    typer.Option(
        "--history",
        metavar="N",
        help="List the last N periods (up to --period's), newest first.",
    ),
]


def register(app: typer.Typer) -> None:
    @command(app, "overview")
    def overview(
        db: DbOption,
        period: PeriodOption = None,
        history: HistoryOption = None,
        format_: FormatOption = OutputFormat.table,
    ) -> None:
        """The billing period's total, overage, charges and forecast."""
        day = parse_date(period, "--period") if period is not None else None
        store = open_db(db)
        periods = 1 if history is None else history
        figures = overview_history(store, current_time(), periods, day)
        rows = [f.as_dict() for f in figures]
        if history is not None:
            emit_listing(rows, OVERVIEW_COLUMNS, format_.value, title="Billing periods")
        elif format_ is OutputFormat.json:
            write_json(rows[0])
        elif format_ is OutputFormat.csv:
            emit_listing(rows, OVERVIEW_COLUMNS, "csv")
        else:
            key_value_table(
                overview_pairs(figures[0]), title="Sent SMS Messages Overview"
            )
