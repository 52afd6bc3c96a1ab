"""One importer at a time, listings beside it, and a kill at any instant.

The kill test runs ``python -m smsctl`` in a subprocess, as cron would, on
an export written by the test, and kills it once the ledger shows rows
committed.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench.generate import HEADER
from smsctl.importing.lock import import_lock
from smsctl.numbers import add_number, init_database
from smsctl.store import open_store
from tests.conftest import DATA

FIXTURES = DATA / "import"
NOW = "2026-12-04T12:00:00Z"
SENDERS = [
    "+14155550100",
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550104",
]
OUTSIDE = "+14155550199"
STATUSES = [("delivered", "")] * 12 + [
    ("sent", ""),
    ("undelivered", "30007"),
    ("undelivered", "30003"),
    ("failed", "21610"),
    ("undelivered", "30006"),
    ("queued", ""),
    ("canceled", ""),
]


def write_export(path: Path, rows: int, seed: int = 3) -> None:
    """A Twilio console export, newest first, with what real ones hold: repeated
    messages, inbound STOPs, senders outside the pool, undated rows."""
    rng = random.Random(seed)
    start = int(datetime(2026, 11, 4, tzinfo=timezone.utc).timestamp())
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            sent = start + (rows - i) * 50
            sender = OUTSIDE if i % 97 == 0 else rng.choice(SENDERS)
            to = f"+1212{rng.randrange(2_000_000, 2_003_000):07d}"
            number = i if i % 501 else i - 1  # now and then a message seen twice
            status, code = rng.choice(STATUSES)
            direction, body = "outbound-api", "Your quote is ready."
            if i % 389 == 0:
                sender, to, status, code = to, sender, "received", ""
                direction, body = "inbound", rng.choice(["STOP", "start", "thanks"])
            when = (
                ""
                if status in ("queued", "canceled")
                else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent))
            )
            writer.writerow(
                [
                    sender,
                    to,
                    body,
                    status,
                    when,
                    "2010-04-01",
                    "1",
                    code,
                    "AC" + "2" * 32,
                    f"SM{number:032x}",
                    direction,
                    "-0.00790",
                    "USD",
                ]
            )


def smsctl_env(db: Path) -> dict:
    return dict(os.environ, SMSCTL_DB=str(db), SMSCTL_NOW=NOW, TZ="UTC")


def smsctl(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smsctl", *args],
        env=smsctl_env(db),
        capture_output=True,
        text=True,
        timeout=600,
    )


def start_import(
    db: Path, export: Path, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen:
    """``smsctl logs import --quiet export`` running in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "smsctl", "logs", "import", "--quiet", str(export)],
        env=smsctl_env(db),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def new_pool(db: Path) -> None:
    init_database(db, SENDERS[0])
    store = open_store(db)
    for number in SENDERS[1:]:
        add_number(store, number)
    store.close()


def query(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def state(db: Path) -> dict:
    """What an import leaves, without the ids that depend on commit order."""
    return {
        "listing": json.loads(
            smsctl(db, "numbers", "list", "--all-time", "--format", "json").stdout
        ),
        "messages": query(
            db,
            "SELECT provider, message_id, from_number, to_number, "
            "outbound, status, error_code, detail, rank, sent_at, "
            "time_source, local_day, updated_at FROM messages "
            "ORDER BY provider, message_id",
        ),
        "tallies": query(
            db,
            "SELECT number, day, detail, n FROM tallies WHERE n > 0 "
            "ORDER BY 1, 2, 3",
        ),
        "contacts": query(
            db,
            "SELECT contact, number, since, source FROM contacts " "ORDER BY contact",
        ),
        "optouts": query(
            db,
            "SELECT contact, opted_out, at, source, message_id "
            "FROM optout_events ORDER BY message_id",
        ),
    }


def test_second_import_waits_then_exits_1_naming_the_holder(pool, db_path):
    pool.ok("config", "set", "import.wait_seconds", "1")
    holder = "smsctl logs import /var/exports/nightly.csv"
    with import_lock(db_path, 0, holder):
        started = time.monotonic()
        result = pool("logs", "import", str(FIXTURES / "twilio_console.csv"))
        waited = time.monotonic() - started
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: another import holds {db_path}.import-lock (pid {os.getpid()}, "
        f"{holder}); waited 1 s (import.wait_seconds); try later\n"
    )
    assert waited >= 1
    assert query(db_path, "SELECT count(*) FROM imports") == [(0,)]


def test_second_import_goes_ahead_once_the_first_lets_go(pool, db_path):
    pool.ok("config", "set", "import.wait_seconds", "30")
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with import_lock(db_path, 0, "smsctl logs import earlier.csv"):
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(10)
    threading.Timer(0.5, release.set).start()
    result = pool("logs", "import", "--quiet", str(FIXTURES / "twilio_console.csv"))
    holder.join()
    assert result.exit_code == 0, result.stderr
    assert query(db_path, "SELECT count(*) FROM messages") == [(14,)]


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "export.csv"
    write_export(path, 50_000)
    return path


@pytest.fixture(scope="module")
def empty_pool(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("pool") / "empty.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMSCTL_NOW", NOW)
        patch.setenv("TZ", "UTC")
        new_pool(db)
    return db


@pytest.fixture(scope="module")
def clean(tmp_path_factory, big_export, empty_pool) -> tuple[dict, dict]:
    """The state and ledger entry of one clean import of the big export."""
    db = tmp_path_factory.mktemp("clean") / "clean.db"
    db.write_bytes(empty_pool.read_bytes())
    result = smsctl(db, "logs", "import", "--quiet", str(big_export))
    assert result.returncode == 0, result.stderr
    history = json.loads(smsctl(db, "logs", "history", "--format", "json").stdout)
    return state(db), history[0]


def signal_once_committed(db: Path, process: subprocess.Popen, signum: int) -> int:
    """Send ``signum`` to the import ``process`` once the ledger shows rows
    committed; returns how many rows it showed."""
    try:
        deadline = time.monotonic() + 120
        committed = 0
        while time.monotonic() < deadline and process.poll() is None:
            if db.with_name(db.name + "-wal").exists():
                rows = query(
                    db, "SELECT rows_read FROM imports " "WHERE finished_at IS NULL"
                )
                committed = rows[0][0] if rows else 0
                if committed:
                    break
            time.sleep(0.002)
        process.send_signal(signum)
    finally:
        process.wait()
    return committed


def test_import_killed_part_way_reruns_to_the_result_of_one_clean_import(
    tmp_path, big_export, empty_pool, clean
):
    expected, clean_entry = clean
    db = tmp_path / "killed.db"
    db.write_bytes(empty_pool.read_bytes())
    process = start_import(db, big_export)
    committed = signal_once_committed(db, process, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL, "the import ended before the kill"
    killed_entry = query(db, "SELECT rows_read, added, finished_at FROM imports")
    assert killed_entry[0][2] is None and 0 < committed < 50_000

    rerun = smsctl(db, "logs", "import", "--quiet", str(big_export))
    assert rerun.returncode == 0, rerun.stderr
    assert state(db) == expected
    first, second = json.loads(smsctl(db, "logs", "history", "--format", "json").stdout)
    assert first["finished_at"] is None and second["finished_at"] is not None
    # Nothing counted twice: what the killed run added and what the rerun
    # added make what one clean run adds.
    assert first["added"] + second["added"] == clean_entry["added"]
    assert second["rows_read"] == clean_entry["rows_read"] == 50_000


def test_an_import_interrupted_with_ctrl_c_says_how_to_finish_it(
    tmp_path, big_export, empty_pool, clean
):
    expected, _ = clean
    db = tmp_path / "interrupted.db"
    db.write_bytes(empty_pool.read_bytes())
    process = start_import(db, big_export, stderr=subprocess.PIPE)
    assert signal_once_committed(db, process, signal.SIGINT) > 0
    assert process.returncode == 130, "the import ended before the interrupt"
    assert process.stderr.read() == (
        b"Error: interrupted: what was committed is kept; run the same import "
        b"again to finish it\n"
    )
    rerun = smsctl(db, "logs", "import", "--quiet", str(big_export))
    assert rerun.returncode == 0, rerun.stderr
    assert state(db) == expected


def test_listings_and_dry_run_picks_never_fail_while_an_import_runs(
    tmp_path, big_export, empty_pool
):
    db = tmp_path / "busy.db"
    db.write_bytes(empty_pool.read_bytes())
    process = subprocess.Popen(
        [sys.executable, "-m", "smsctl", "logs", "import", "--quiet", str(big_export)],
        env=smsctl_env(db),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    outcomes = set()
    while process.poll() is None:
        for args in (
            ["numbers", "list", "--format", "json"],
            ["send-from", "pick", "--to", "+14155559876", "--dry-run"],
            ["overview", "--format", "json"],
        ):
            done = smsctl(db, *args)
            outcomes.add((args[0], done.returncode, done.stderr.split(":")[0]))
    assert process.wait() == 0, process.stderr.read()
    process.stderr.close()
    # A pick may find every number over its daily cap (exit 4), never a busy
    # database.
    assert outcomes <= {
        ("numbers", 0, ""),
        ("overview", 0, ""),
        ("send-from", 0, ""),
        ("send-from", 4, "Error"),
    }, outcomes
    assert ("numbers", 0, "") in outcomes


# Run as ``python -c``: smsctl with its import killed just before the file's
# contacts are made sticky, every chunk committed as it is stored.
KILLED_BEFORE_FINISH = """
import os, signal, sys
from smsctl.importing import batches, run
run.FIRST_COMMIT_ROWS = 1
batches.BatchWriter.finish = lambda writer: os.kill(os.getpid(), signal.SIGKILL)
from smsctl.cli import main
sys.argv[0] = "smsctl"
main()
"""


def import_killed_before_finish(db: Path, export: Path) -> None:
    """``logs import export``, SIGKILLed once its rows are all committed,
    before it makes the file's contacts sticky."""
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_FINISH]
        + ["logs", "import", "--quiet", str(export)],
        env=smsctl_env(db),
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL


def twilio_rows(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A Twilio console export of (sid, from, to, status) texts, all at one time."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for sid, sender, to, status in rows:
            writer.writerow(
                [sender, to, "Hi", status, "2026-12-01T10:00:00Z", "2010-04-01"]
                + ["1", "", "AC1", sid, "outbound-api", "-0.0079", "USD"]
            )
    return path


JOINED = "+13105550999"


def killed_while_updating_an_older_text(tmp_path: Path) -> tuple[Path, Path]:
    """A pool whose import of a second file was killed before its contacts
    were made sticky, after it had updated a text of the first file (sent
    from JOINED, a number that joined the pool between the two) and stored
    two new texts; returns the database and the second file."""
    db = tmp_path / "smsctl.db"
    first = twilio_rows(
        tmp_path / "first.csv", [("SM1", JOINED, "+12125550001", "sent")]
    )
    second = twilio_rows(
        tmp_path / "second.csv",
        [
            ("SM1", JOINED, "+12125550001", "delivered"),
            ("SM2", SENDERS[0], "+12125550002", "delivered"),
            ("SM3", SENDERS[0], "+12125550003", "delivered"),
        ],
    )
    new_pool(db)
    assert smsctl(db, "logs", "import", "--quiet", str(first)).returncode == 0
    assert smsctl(db, "numbers", "add", JOINED).returncode == 0
    import_killed_before_finish(db, second)
    assert query(
        db, "SELECT finished_at, added, updated FROM imports WHERE id = 2"
    ) == [(None, 2, 1)]
    return db, second


def test_a_rerun_after_a_kill_makes_only_the_files_new_texts_sticky(tmp_path):
    """The killed import gave the first file's text its own import id; the
    rerun still takes only the texts it stored new, as one clean import."""
    db, second = killed_while_updating_an_older_text(tmp_path)
    assert smsctl(db, "logs", "import", "--quiet", str(second)).returncode == 0
    clean = tmp_path / "clean"
    clean.mkdir()
    clean_db = clean / "smsctl.db"
    new_pool(clean_db)
    for name in ("first.csv", "second.csv"):
        if name == "second.csv":
            assert smsctl(clean_db, "numbers", "add", JOINED).returncode == 0
        assert (
            smsctl(clean_db, "logs", "import", "--quiet", str(tmp_path / name))
        ).returncode == 0
    contacts = "SELECT contact, number FROM contacts ORDER BY contact"
    assert (
        query(db, contacts)
        == query(clean_db, contacts)
        == [
            ("+12125550002", SENDERS[0]),
            ("+12125550003", SENDERS[0]),
        ]
    )


def test_a_kill_recorded_before_imports_kept_their_first_message(tmp_path):
    """A killed import from before migration m004 has no first_message_id: its
    rerun takes the killed run's messages from its lowest message on, which
    includes an older text it only updated (the shortcoming m004 removed)."""
    db, second = killed_while_updating_an_older_text(tmp_path)
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE imports SET first_message_id = NULL WHERE id = 2")
    assert smsctl(db, "logs", "import", "--quiet", str(second)).returncode == 0
    assert query(db, "SELECT contact, number FROM contacts ORDER BY contact") == [
        ("+12125550001", JOINED),
        ("+12125550002", SENDERS[0]),
        ("+12125550003", SENDERS[0]),
    ]


def test_a_file_imported_between_a_kill_and_its_rerun_takes_no_texts_away(tmp_path):
    """Another file's later record of a text the killed import stored makes
    it that file's; the rerun still counts the text as its own new one."""
    texts = [
        ("SM1", SENDERS[0], "+12125550001", "sent"),
        ("SM2", SENDERS[0], "+12125550002", "sent"),
    ]
    first = twilio_rows(tmp_path / "first.csv", texts)
    other = twilio_rows(
        tmp_path / "other.csv",
        [
            ("SM1", SENDERS[0], "+12125550001", "delivered"),
            ("SM9", SENDERS[1], "+12125550009", "delivered"),
        ],
    )
    contacts = "SELECT contact, number FROM contacts ORDER BY contact"
    found = []
    for killed in (False, True):
        db = tmp_path / f"killed{killed}.db"
        new_pool(db)
        if killed:
            import_killed_before_finish(db, first)
            assert smsctl(db, "logs", "import", "--quiet", str(other)).returncode == 0
        for export in (first, other):
            assert smsctl(db, "logs", "import", "--quiet", str(export)).returncode == 0
        found.append(query(db, contacts))
    assert (
        found[0]
        == found[1]
        == [
            ("+12125550001", SENDERS[0]),
            ("+12125550002", SENDERS[0]),
            ("+12125550009", SENDERS[1]),
        ]
    )
