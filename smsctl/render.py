"""Output: rich tables for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable

FORMATS = ("table", "json", "csv")
WIDEST_TABLE = 100_000  # characters a table's line may take, to measure it
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """A field of a listing: its key, and how a table shows it.

    A hidden column is left out of tables but still names a CSV field, so
    that an empty listing's CSV header matches a full one's.
    """

    key: str
    title: str
    show: Callable[[Any, dict], str] | None = None
    justify: str = "left"
    hidden: bool = False

    def text(self, row: dict) -> str:
        value = row.get(self.key)
        if self.show is not None:
            return self.show(value, row)
        return plain(value)


def plain(value: Any) -> str:
    """A value as table text: ``—`` for none, yes/no for booleans."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula.

    Phone numbers in E.164 form and plain numbers stay as they are.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START) and not (
        E164.fullmatch(text) or PLAIN_NUMBER.fullmatch(text)
    ):
        return "'" + text
    return text


# A nested field flattens to "<prefix>_<child>"; "_detail" is dropped, so that
# undelivered_detail.failed becomes undelivered_failed as DESIGN names it.
FLAT_PREFIX = {"undelivered_detail": "undelivered"}


def flatten(row: dict, prefix: str = "") -> dict:
    """Nested fields as ``parent_child`` columns, lists as JSON text."""
    flat: dict = {}
    for key, value in row.items():
        name = prefix + FLAT_PREFIX.get(key, key)
        if isinstance(value, dict):
            flat.update(flatten(value, name + "_"))
            continue
        if isinstance(value, list):
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        flat[name] = value
    return flat


def write_csv(
    rows: Iterable[dict], out=None, fieldnames: list[str] | None = None
) -> None:
    """Rows as CSV with flattened field names and formula-safe cells."""
    out = out or sys.stdout
    flat_rows = [flatten(row) for row in rows]
    if fieldnames is None:
        fieldnames = list(flat_rows[0]) if flat_rows else []
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fieldnames)
    for row in flat_rows:
        writer.writerow([safe_cell(row.get(name)) for name in fieldnames])


def write_json(value: Any, out=None) -> None:
    """``value`` as indented JSON; the caller has made money a string already."""
    out = out or sys.stdout
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_json_items(items: Iterable[Any], out=None) -> None:
    """The list of ``items`` as ``write_json`` writes it, each item written as
    it comes. The array is closed even when ``items`` raises, so that the
    items written before still read as one array."""
    out = out or sys.stdout
    first = True
    out.write("[")
    try:
        for item in items:
            text = json.dumps(item, indent=2, ensure_ascii=False)
            out.write(("\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
            first = False
    finally:
        out.write("]\n" if first else "\n]\n")


def print_table(table, out=None) -> None:
    """Print a rich table to ``out`` (stdout) whole: no colour or highlighting
    unless on a terminal, and never a cell cut short.

    Off a terminal the table is as wide as its widest row. On a terminal
    narrower than the table, its lines run on past the edge rather than
    lose their ends.
    """
    from rich.console import Console
    from rich.measure import Measurement

    out = out or sys.stdout
    console = Console(
        file=out, width=None if out.isatty() else 80, highlight=False, soft_wrap=False
    )
    unbounded = console.options.update_width(WIDEST_TABLE)
    console.width = max(
        console.width, Measurement.get(console, unbounded, table).maximum
    )
    console.print(table)


def write_table(
    rows: list[dict],
    columns: list[Column],
    title: str | None = None,
    caption: str | None = None,
    out=None,
) -> None:
    """Rows as a rich table of the visible columns; cells are plain text."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    shown = [column for column in columns if not column.hidden]
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAVY)
    for column in shown:
        table.add_column(column.title, justify=column.justify, no_wrap=True)
    for row in rows:
        table.add_row(*[Text(column.text(row)) for column in shown])
    print_table(table, out)


def emit_listing(
    rows: list[dict],
    columns: list[Column],
    format_: str,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """A listing as a table, a JSON array or CSV with its stable field names."""
    if format_ == "json":
        write_json(rows)
    elif format_ == "csv":
        fieldnames = None
        if not rows:
            fieldnames = [c.key for c in columns]
        write_csv(rows, fieldnames=fieldnames)
    else:
        write_table(rows, columns, title=title, caption=caption)


def key_value_table(pairs: list[tuple[str, str]], title: str | None = None) -> None:
    """Labelled values, one a line, as a two-column table."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", no_wrap=True)
    for key, value in pairs:
        table.add_row(Text(key), Text(value))
    print_table(table)


SPARK = "▁▂▃▄▅▆▇█"
NO_VALUE = "·"
BAR_SENT, BAR_BLOCKED = "█", "░"


def sparkline(
    values: list[int | float | None], top: float | None = None, blank_zero=True
) -> str:
    """One character a value, oldest first: a bar from ▁ to █ (``top``, by
    default the largest value), ``·`` for no value, and a space for zero
    unless ``blank_zero`` is false (then zero is ▁)."""
    if top is None:
        top = max((v for v in values if v is not None), default=0)
    marks = []
    for value in values:
        if value is None:
            marks.append(NO_VALUE)
        elif value <= 0 or top <= 0:
            marks.append(" " if blank_zero else SPARK[0])
        else:
            step = round(min(value, top) * (len(SPARK) - 1) / top)
            marks.append(SPARK[step])
    return "".join(marks)


def stacked_bar(sent: int, blocked: int, top: int, width: int = 30) -> str:
    """A day's texts as a bar scaled to ``top``: █ for each share of texts not
    blocked, ░ for the blocked share, so it reads without colour."""
    if sent <= 0 or top <= 0:
        return ""
    length = max(1, round(sent * width / top))
    blocked_length = round(blocked * width / top)
    if blocked:
        blocked_length = min(length, max(1, blocked_length))
    return BAR_SENT * (length - blocked_length) + BAR_BLOCKED * blocked_length


REDACT_ENV = "SMSCTL_REDACT"


def redacting() -> bool:
    """True when phone numbers in messages must be masked (--redact)."""
    return os.environ.get(REDACT_ENV, "").strip().lower() in ("1", "true", "yes")


def for_sharing(text: str) -> str:
    """``text`` as it may go to stderr: phone numbers masked under --redact."""
    if not redacting():
        return text
    from .phones import redact_phones

    return redact_phones(text)


# Error lines written so far by this process (see cli.main).
errors_written = 0


def error(message: str) -> None:
    """One line on stderr."""
    global errors_written
    line = " ".join(for_sharing(str(message)).split())
    sys.stderr.write(f"Error: {line}\n")
    errors_written += 1


def note(message: str) -> None:
    """A remark for the person at the terminal, on stderr."""
    sys.stderr.write(f"{message}\n")
