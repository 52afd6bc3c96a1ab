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

ROWS = 30_000
KILL_POINTS = 20
SENDERS = pool_numbers(6)
NOW = "2026-12-04T12:00:00Z"


def smsctl(db: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")
    return subprocess.run(
        [sys.executable, "-m", "smsctl", *args],
        env=env,
        capture_output=True,
        text=True,
        **kwargs,
    )


def start_smsctl(db: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")
    return subprocess.Popen(
        [sys.executable, "-m", "smsctl", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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


def import_row_appeared(db: Path) -> bool:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM imports").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def start_import_and_wait_for_work(db: Path, export: Path) -> subprocess.Popen:
    """Start an import and return once it has opened its ledger row."""
    process = start_smsctl(db, "logs", "import", "--quiet", str(export))
    deadline = time.monotonic() + 60
    while not import_row_appeared(db):
        assert process.poll() is None, "the import ended before it began work"
        assert time.monotonic() < deadline, "the import never began work"
        time.sleep(0.005)
    return process


@pytest.fixture(scope="module")
def clean(tmp_path_factory, export) -> tuple[Path, list, float]:
    """A pool, and the listing of one clean import into it and how long its
    work took (from its ledger row to its exit)."""
    empty = tmp_path_factory.mktemp("clean") / "empty.db"
    new_pool(empty)
    once = empty.with_name("once.db")
    once.write_bytes(empty.read_bytes())
    process = start_import_and_wait_for_work(once, export)
    started = time.monotonic()
    assert process.wait() == 0
    return empty, listing(once), time.monotonic() - started


def unfinished_imports(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT count(*) FROM imports WHERE finished_at IS NULL"
        ).fetchone()[0]


def test_import_killed_at_twenty_points_reruns_to_one_clean_import(
    tmp_path, export, clean
):
    """Kills spread over the import's work; each rerun must equal a clean import.

    A kill that lands after the import finished does not count as a point:
    the clean import took longer than this one, and every point from there
    on is tried at half the moment it had, so load on the machine cannot
    make the test pass without twenty real interruptions.
    """
    empty, expected, work_seconds = clean
    interrupted, attempt, scale = 0, 0, 1.0
    while interrupted < KILL_POINTS and attempt < 3 * KILL_POINTS:
        db = tmp_path / f"killed{attempt}.db"
        db.write_bytes(empty.read_bytes())
        process = start_import_and_wait_for_work(db, export)
        fraction = (interrupted + 0.5) / KILL_POINTS
        time.sleep(work_seconds * fraction * scale)
        process.send_signal(signal.SIGKILL)
        process.wait()
        attempt += 1
        if unfinished_imports(db) == 0:
            scale /= 2
            continue
        interrupted += 1
        rerun = smsctl(db, "logs", "import", "--quiet", str(export))
        assert rerun.returncode == 0, rerun.stderr
        assert listing(db) == expected, f"kill point {interrupted}"
    assert interrupted == KILL_POINTS


def test_hundred_concurrent_picks_during_an_import_all_succeed_and_stay_sticky(
    tmp_path, export, clean
):
    empty, _, _ = clean
    db = tmp_path / "busy.db"
    db.write_bytes(empty.read_bytes())
    assert smsctl(db, "config", "set", "pick.daily_cap", "0").returncode == 0
    contacts = [f"+1415{2000000 + i * 7919:07d}" for i in range(50)]
    importer = start_smsctl(db, "logs", "import", "--quiet", str(export))

    during_import = []

    def pick(contact: str) -> subprocess.CompletedProcess:
        done = smsctl(db, "send-from", "pick", "--to", contact, "--format", "json")
        during_import.append(importer.poll() is None)
        return done

    with ThreadPoolExecutor(max_workers=16) as workers:
        results = list(workers.map(pick, contacts + contacts[::-1]))
    assert importer.wait() == 0
    assert sum(during_import) >= 10, "the picks did not overlap the import"
    assert [r.returncode for r in results] == [0] * 100, [r.stderr for r in results]
    answers: dict[str, set] = {}
    for result in results:
        answer = json.loads(result.stdout)
        answers.setdefault(answer["to"], set()).add(answer["from"])
    assert sorted(answers) == sorted(contacts)
    assert all(len(numbers) == 1 for numbers in answers.values()), answers
    with sqlite3.connect(db) as conn:
        twice = conn.execute(
            "SELECT to_number FROM picks GROUP BY to_number "
            "HAVING count(DISTINCT from_number) > 1"
        ).fetchall()
        assert twice == []
        assert conn.execute("SELECT count(*) FROM picks").fetchone()[0] == 100
