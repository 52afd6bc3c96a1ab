"""Reading what smsctl shows, for tests: listings as JSON, and database dumps."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def history(cli) -> list[dict]:
    rows = json.loads(cli.ok("logs", "history", "--format", "json").stdout)
    return sorted(rows, key=lambda row: row["id"])


def opted_out(cli) -> list[str]:
    rows = json.loads(cli.ok("optouts", "list", "--format", "json").stdout)
    return sorted(row["number"] for row in rows)


def import_(cli, *args: str):
    return cli("logs", "import", "--quiet", *args)
