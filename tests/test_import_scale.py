"""Imports stream: what Python holds does not grow with the file.

These measure memory, never time: the speed of a large import is measured
by bench/, against the sqlite3 shell.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bench.generate import HEADER
from smsctl.importing import ImportOptions, import_files, pipeline
from smsctl.numbers import add_number, init_database
from smsctl.store import open_store

SENDERS = ["+14155550101", "+14155550102", "+14155550103"]


def twilio_csv(path: Path, rows: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            writer.writerow(
                [
                    SENDERS[i % 3],
                    f"+1212{2_000_000 + i * 7919 % 900_000:07d}",
                    "Your quote is ready, reply STOP to end.",
                    "delivered",
                    f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:"
                    f"{i % 60:02d}:{i * 7 % 60:02d}Z",
                    "2010-04-01",
                    "1",
                    "",
                    "AC" + "3" * 32,
                    f"SM{i:032x}",
                    "outbound-api",
                    "-0.00790",
                    "USD",
                ]
            )
    return path


def twilio_page(path: Path, messages: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"first_page_uri": "/Messages.json", "page": 0,\n"messages": [\n')
        for i in range(messages):
            item = {
                "sid": f"SM{i:032x}",
                "from": SENDERS[i % 3],
                "to": f"+1212{2_000_000 + i:07d}",
                "status": "delivered",
                "error_code": None,
                "direction": "outbound-api",
                "date_sent": "Tue, 01 Dec 2026 10:00:00 +0000",
                "body": "Your quote is ready." * 10,
            }
            handle.write(("," if i else "") + json.dumps(item, indent=2) + "\n")
        handle.write('], "next_page_uri": null}\n')
    return path


def new_pool(db: Path):
    """A fresh pool at ``db``, the SENDERS in it; its store, open."""
    init_database(db, "+14155550100")
    store = open_store(db)
    for number in SENDERS:
        add_number(store, number)
    return store


def python_peak(tmp_path: Path, name: str, export: Path) -> int:
    """Bytes Python held at most while importing ``export`` into a fresh pool."""
    store = new_pool(tmp_path / f"{name}.db")
    tracemalloc.start()
    try:
        [result] = import_files(store, [export], ImportOptions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        store.close()
    assert result.exit_code == 0 and result.rejected == 0
    return peak


# In one process, Python's memory is that of reading and storing together;
# with a reading child, tracemalloc sees the storing parent alone.
@pytest.fixture(params=[False, True], ids=["one process", "reading child"])
def read_in_child(request, monkeypatch):
    monkeypatch.setattr(pipeline, "READ_IN_CHILD", request.param)


@pytest.mark.usefixtures("read_in_child")
def test_memory_held_for_a_csv_does_not_grow_with_its_length(tmp_path):
    small = python_peak(tmp_path, "small", twilio_csv(tmp_path / "small.csv", 12_000))
    large = python_peak(tmp_path, "large", twilio_csv(tmp_path / "large.csv", 72_000))
    assert large < small * 1.3, (small, large)


@pytest.mark.usefixtures("read_in_child")
def test_a_json_page_is_streamed_not_read_whole(tmp_path):
    export = twilio_page(tmp_path / "page.json", 40_000)
    peak = python_peak(tmp_path, "page", export)
    # Read whole, the page's text alone would take its size, and its objects
    # several times that; streamed, the peak is about one chunk of rows.
    assert peak < export.stat().st_size / 2.5, (peak, export.stat().st_size)


def test_the_benchmarks_floor_stores_what_an_import_stores(tmp_path):
    """bench.store_only times an import's storing alone; it must store exactly
    what ``logs import`` stores, or its floor would measure something else."""
    export = twilio_csv(tmp_path / "export.csv", 3_000)
    root = Path(__file__).parent.parent
    commands = {
        "import": [sys.executable, "-m", "smsctl", "logs", "import", "--quiet"],
        "floor": [sys.executable, "-m", "bench.store_only", "{db}"],
    }
    stored = {}
    for name, command in commands.items():
        db = tmp_path / f"{name}.db"
        new_pool(db).close()
        finished = subprocess.run(
            [part.format(db=db) for part in command] + [str(export)],
            env=dict(os.environ, SMSCTL_DB=str(db)),
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        )
        if name == "floor":
            assert json.loads(finished.stdout)["added"] == 3_000
        with sqlite3.connect(db) as conn:
            stored[name] = [
                conn.execute(sql).fetchall()
                for sql in (
                    "SELECT * FROM messages ORDER BY id",
                    "SELECT * FROM tallies ORDER BY number, day, detail",
                    "SELECT * FROM contacts ORDER BY contact",
                    "SELECT rows_read, added, finished_at IS NOT NULL FROM imports",
                )
            ]
    assert len(stored["import"][0]) == 3_000
    assert len(stored["import"][2]) == len({row[4] for row in stored["import"][0]})
    assert stored["floor"] == stored["import"]


@pytest.mark.parametrize("enabled", [True, False])
def test_an_import_leaves_the_garbage_collector_as_it_found_it(tmp_path, enabled):
    db = tmp_path / "gc.db"
    init_database(db, "+14155550100")
    store = open_store(db)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        [result] = import_files(
            store, [twilio_csv(tmp_path / "gc.csv", 10)], ImportOptions()
        )
        assert (gc.isenabled(), result.added) == (enabled, 10)
    finally:
        (gc.enable if was else gc.disable)()
        store.close()
