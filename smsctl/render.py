"""Output: rich tables for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable

FORMATS = ("table", "json", "csv")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
E164 = re.compile(r"\+[1-9]\d{6,14}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    show: Callable[[Any, dict], str] | None = None
    justify: str = "left"

    def text(self, row: dict) -> str:
        value = row.get(self.key)
        if self.show is not None:
            return self.show(value, row)
        return plain(value)


def plain(value: Any) -> str:
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


def flatten(row: dict, prefix: str = "") -> dict:
    """Nested fields as ``parent_child`` columns, lists as JSON text."""
    flat: dict = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}_" if not prefix else f"{prefix}{key}_"))
            continue
        if isinstance(value, list):
            value = json.dumps(value, separators=(",", ":"))
        flat[prefix + key] = value
    return flat


def _undelivered_names(row: dict) -> dict:
    """``undelivered_detail`` flattens to ``undelivered_failed`` etc."""
    out = {}
    for key, value in row.items():
        if key == "undelivered_detail" and isinstance(value, dict):
            out.update({f"undelivered_{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


def write_csv(rows: Iterable[dict], out=None, fieldnames: list[str] | None = None) -> None:
    out = out or sys.stdout
    flat_rows = [flatten(_undelivered_names(row)) for row in rows]
    if fieldnames is None:
        fieldnames = list(flat_rows[0]) if flat_rows else []
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fieldnames)
    for row in flat_rows:
        writer.writerow([safe_cell(row.get(name)) for name in fieldnames])


def write_json(value: Any, out=None) -> None:
    out = out or sys.stdout
    json.dump(value, out, indent=2, ensure_ascii=False)
    out.write("\n")


def table_console(stderr: bool = False):
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def write_table(rows: list[dict], columns: list[Column], title: str | None = None,
                caption: str | None = None, out=None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAVY)
    for column in columns:
        table.add_column(column.title, justify=column.justify, no_wrap=True)
    for row in rows:
        table.add_row(*[Text(column.text(row)) for column in columns])
    console = table_console() if out is None else _console_for(out)
    console.print(table)


def _console_for(out):
    from rich.console import Console

    return Console(file=out, width=160, highlight=False)


def emit_listing(rows: list[dict], columns: list[Column], format_: str,
                 title: str | None = None, caption: str | None = None) -> None:
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
    from rich import box
    from rich.table import Table

    from rich.text import Text

    table = Table(title=title, box=box.SIMPLE_HEAVY, show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", no_wrap=True)
    for key, value in pairs:
        table.add_row(Text(key), Text(value))
    table_console().print(table)


SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """Bars of a daily series, scaled to its largest value; blank for zero."""
    top = max(values, default=0)
    if top == 0:
        return " " * len(values)
    return "".join(SPARK[round(v * (len(SPARK) - 1) / top)] if v else " " for v in values)


def error(message: str) -> None:
    """One line on stderr."""
    line = " ".join(str(message).split())
    sys.stderr.write(f"Error: {line}\n")


def note(message: str) -> None:
    sys.stderr.write(f"{message}\n")
