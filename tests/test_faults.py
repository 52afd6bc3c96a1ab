"""Faults: imports killed part-way, and picks racing an import.

These run real smsctl processes, as cron and a drip runner would.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.generate import pool_numbers, utc, write_twilio_export

ROWS = 15_000
KILL_POINTS = 20
SENDERS = pool_numbers(6)
NOW = "2026-12-04T12:00:00Z"


def smsctl(db: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")
    return subprocess.run([sys.executable, "-m", "smsctl", *args], env=env,
                          capture_output=True, text=True, **kwargs)


def start_smsctl(db: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")
    return subprocess.Popen([sys.executable, "-m", "smsctl", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def new_pool(db: Path) -> None:
    assert smsctl(db, "init", "--main", SENDERS[0]).returncode == 0
    for number in SENDERS[1:]:
        assert smsctl(db, "numbers", "add", number).returncode == 0


def listing(db: Path) -> list:
    result = smsctl(db, "numbers", "list", "--all-time", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "export.csv"
    write_twilio_export(path, ROWS, SENDERS, utc(NOW), days=30, contacts=8_000)
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory, export) -> tuple[Path, list, float]:
    """A pool, and the listing and duration of one clean import into it."""
    empty = tmp_path_factory.mktemp("clean") / "empty.db"
    new_pool(empty)
    once = empty.with_name("once.db")
    once.write_bytes(empty.read_bytes())
    started = time.monotonic()
    assert smsctl(once, "logs", "import", "--quiet", str(export)).returncode == 0
    return empty, listing(once), time.monotonic() - started


def unfinished_imports(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM imports WHERE finished_at IS NULL"
        ).fetchone()[0]


def test_import_killed_at_twenty_points_reruns_to_one_clean_import(
    tmp_path, export, clean
):
    empty, expected, duration = clean
    interrupted = 0
    for point in range(KILL_POINTS):
        db = tmp_path / f"killed{point}.db"
        db.write_bytes(empty.read_bytes())
        process = start_smsctl(db, "logs", "import", "--quiet", str(export))
        # Spread the kills over the import, start-up included.
        time.sleep(0.2 + duration * point / KILL_POINTS)
        process.send_signal(signal.SIGKILL)
        process.wait()
        interrupted += unfinished_imports(db) > 0
        rerun = smsctl(db, "logs", "import", "--quiet", str(export))
        assert rerun.returncode == 0, rerun.stderr
        assert listing(db) == expected, f"kill point {point}"
    # Most kills must have landed mid-import for the test to mean anything.
    assert interrupted >= KILL_POINTS // 2
