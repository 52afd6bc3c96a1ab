"""An import reads its file in a second process: that process's failures and end.

The importer forks a child that turns records into batches of rows while
the parent stores them (smsctl/importing/pipeline.py). These tests break
the child part-way, kill the parent, and check that reading in one process
stores exactly the same.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import itertools
import os
import random
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench.generate import HEADER
from smsctl.importing import pipeline, run
from tests.conftest import DATA
from tests.test_import_lock_and_kill import (
    OUTSIDE,
    SENDERS,
    new_pool,
    query,
    smsctl,
    start_import,
    state,
    write_export,
)

FIXTURES = DATA / "import"
# Files of several providers, with rejected rows, repeats and opt-outs.
MIXED = [
    "twilio_console.csv",
    "bad_rows.csv",
    "overlap_early.csv",
    "overlap_late.csv",
    "optouts.csv",
    "outside_pool.csv",
    "quoted_line_breaks.csv",
    "telnyx_mdr.csv",
    "twilio_page.json",
    "twilio_lines.jsonl",
]


def history_counts(db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT provider, rows_read, added, updated, unchanged, rejected, "
        "outside_pool FROM imports ORDER BY id",
    )


@pytest.fixture
def export(tmp_path) -> Path:
    path = tmp_path / "export.csv"
    write_export(path, 30_000)
    return path


def import_in_process(cli, db: Path, *files: Path):
    return cli(
        "logs",
        "import",
        "--quiet",
        *(str(f) for f in files),
        env={"SMSCTL_DB": str(db)},
    )


def test_reading_in_one_process_or_in_a_child_stores_the_same(
    tmp_path, cli, monkeypatch
):
    files = [FIXTURES / name for name in MIXED]
    results = {}
    for in_child in (False, True):
        monkeypatch.setattr(pipeline, "READ_IN_CHILD", in_child)
        db = tmp_path / f"child_{in_child}.db"
        new_pool(db)
        done = import_in_process(cli, db, *files)
        results[in_child] = (done.exit_code, done.stderr, state(db), history_counts(db))
    assert results[True] == results[False]
    code, stderr, _, counts = results[True]
    # One line per rejected record, whichever process read it.
    assert code == 1 and stderr.count("\n") == sum(row[5] for row in counts) == 7
    assert sum(row[2] for row in counts) > 0


def write_ties(path: Path, rows: int) -> dict[str, tuple[str, int]]:
    """A Twilio console export, newest first, of texts to few recipients from
    the pool and from outside it, many at the same second; returns each
    recipient's sticky number and since, worked out from the rule: the
    earliest text from a pool number, on a tie the lower number."""
    rng = random.Random(5)
    start = int(datetime(2026, 11, 4, tzinfo=timezone.utc).timestamp())
    first: dict[str, tuple[int, str]] = {}
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            sent = start + (rows - i) // 7 * 60
            sender = rng.choice([*SENDERS, OUTSIDE])
            to = f"+1212555{rng.randrange(3000, 3400):04d}"
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sent))
            writer.writerow(
                [
                    sender,
                    to,
                    "Hi",
                    "delivered",
                    when,
                    "2010-04-01",
                    "1",
                    "",
                    "AC" + "2" * 32,
                    f"SM{i:032x}",
                    "outbound-api",
                    "-0.00790",
                    "USD",
                ]
            )
            if sender != OUTSIDE:
                first[to] = min(first.get(to, (sent, sender)), (sent, sender))
    return {to: (number, since) for to, (since, number) in first.items()}


@pytest.mark.parametrize("in_child", [False, True])
def test_contacts_of_a_file_of_many_batches_follow_the_rule(
    tmp_path, cli, monkeypatch, in_child
):
    export = tmp_path / "ties.csv"
    expected = write_ties(export, 12_000)
    monkeypatch.setattr(pipeline, "READ_IN_CHILD", in_child)
    # Many batches: a contact's first text is often in a later one.
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 700)
    db = tmp_path / "ties.db"
    new_pool(db)
    assert import_in_process(cli, db, export).exit_code == 0
    found = query(db, "SELECT contact, number, since, source FROM contacts")
    assert len(found) == len(expected) == 400
    assert {to: (number, since) for to, number, since, _ in found} == expected
    assert {source for *_, source in found} == {"import"}


def write_records_of_one_message(path: Path, records: int) -> None:
    """A Telnyx export: ``records`` records of one text, each a second newer
    than the one before, between the texts of another 500 messages."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["uuid", "sent_at", "completed_at", "direction", "cli"] + ["cld", "status"]
        )
        for i in range(records):
            completed = f"2026-12-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z"
            if i % (records // 500) == 0:
                writer.writerow(
                    [f"other-{i}", completed, completed, "outbound"]
                    + [SENDERS[1], f"+1212555{i % 10_000:04d}", "sent"]
                )
            writer.writerow(
                ["the-one", "2026-12-01T09:59:00Z", completed]
                + ["outbound", SENDERS[1], "+12125550000", "delivered"]
            )


@pytest.mark.parametrize("in_child", [False, True])
def test_many_records_of_one_message_take_a_few_batches_and_count_exactly(
    tmp_path, cli, monkeypatch, in_child
):
    export = tmp_path / "repeats.csv"
    write_records_of_one_message(export, 3_000)
    monkeypatch.setattr(pipeline, "READ_IN_CHILD", in_child)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1_000)
    batches = []

    def counted(*args, **kwargs):
        for batch in pipeline.batches_from_child(*args, **kwargs):
            batches.append((len(batch.rows), sum(map(len, batch.repeats))))
            yield batch

    monkeypatch.setattr(run, "batches_from_child", counted)
    db = tmp_path / "repeats.db"
    new_pool(db)
    result = import_in_process(cli, db, export)
    assert result.exit_code == 0, result.output
    # Each record of the one message is newer than the one before: it wins.
    assert "3500 read, 501 added, 2999 updated, 0 unchanged" in result.output
    # A batch holds a message's further records too, not one record of it.
    assert batches == [(144, 856), (144, 856), (144, 856), (72, 428)]
    assert query(
        db, "SELECT status, updated_at FROM messages WHERE " "message_id = 'the-one'"
    ) == [("delivered", 1796122199)]


def dying_after(rows: int, die) -> callable:
    """A make_row_builder whose builder calls ``die`` at record ``rows``."""
    real = run.make_row_builder

    def make(*args, **kwargs):
        build = real(*args, **kwargs)
        seen = itertools.count()

        def build_or_die(fields):
            if next(seen) == rows:
                die()
            return build(fields)

        return build_or_die

    return make


def test_a_reader_that_dies_part_way_fails_in_one_line_and_a_rerun_finishes(
    tmp_path, cli, monkeypatch, export
):
    clean = tmp_path / "clean.db"
    new_pool(clean)
    assert smsctl(clean, "logs", "import", "--quiet", str(export)).returncode == 0
    db = tmp_path / "broken.db"
    new_pool(db)
    real = run.make_row_builder
    monkeypatch.setattr(
        run, "make_row_builder", dying_after(25_000, lambda: os._exit(9))
    )

    result = import_in_process(cli, db, export)

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {export}: the process reading it ended before the file did; "
        "run the same import again to finish it\n"
    )
    [(rows_read, finished)] = query(db, "SELECT rows_read, finished_at FROM imports")
    assert finished is None and 10_000 <= rows_read < 25_000
    stored = query(db, "SELECT count(*) FROM messages")[0][0]
    assert 0 < stored < 25_000

    monkeypatch.setattr(run, "make_row_builder", real)
    assert smsctl(db, "logs", "import", "--quiet", str(export)).returncode == 0
    assert state(db) == state(clean)


def import_while_changing(cli, monkeypatch, db: Path, export: Path, change):
    """Import ``export`` into ``db``, calling ``change`` once record 100 is
    read, as if another program wrote the file meanwhile."""
    real = run.make_row_builder
    monkeypatch.setattr(run, "make_row_builder", dying_after(100, change))
    try:
        return import_in_process(cli, db, export)
    finally:
        monkeypatch.setattr(run, "make_row_builder", real)


def changed_line(export: Path, how: str) -> str:
    return (
        f"Error: {export} changed while it was read ({how}); what was read is "
        "kept: import it again once the file is complete"
    )


@pytest.mark.parametrize("in_child", [False, True])
def test_a_file_cut_short_while_it_is_read_keeps_what_was_read_and_says_so(
    tmp_path, cli, monkeypatch, export, in_child
):
    db = tmp_path / "cut.db"
    new_pool(db)
    whole = export.read_bytes()
    lines = whole.split(b"\r\n")
    # Cut in the middle of the record on line 20,001, long after record 100
    # is read and long before the reader gets there.
    cut = len(b"\r\n".join(lines[:20_000])) + 2 + 30
    monkeypatch.setattr(pipeline, "READ_IN_CHILD", in_child)

    result = import_while_changing(
        cli, monkeypatch, db, export, lambda: os.truncate(export, cut)
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{export}:20001: rejected: has 3 fields; the header has 13",
        changed_line(export, f"{len(whole):,} bytes when opened, {cut:,} read"),
    ]
    assert query(
        db, "SELECT rows_read, rejected, sha256, finished_at FROM imports"
    ) == [(20_000, 1, hashlib.sha256(whole[:cut]).hexdigest(), None)]
    # Every message of the 19,999 whole records before the cut, each once.
    records = list(csv.reader(whole.decode().splitlines()))[1:20_000]
    sids = {record[HEADER.index("Sid")] for record in records}
    assert len(sids) == 19_960
    assert set(query(db, "SELECT message_id FROM messages")) == {(s,) for s in sids}


def test_a_file_written_to_while_it_is_read_is_finished_by_a_rerun(
    tmp_path, cli, monkeypatch, export
):
    db = tmp_path / "grown.db"
    new_pool(db)
    size = export.stat().st_size
    # Texts older than any in the file, to three of its recipients, from a
    # pool number: once the file is complete they decide those contacts.
    recipients = [row[1] for row in csv.reader(export.open())][1:4]
    appended = "".join(
        f"{SENDERS[4]},{to},Hi,delivered,2026-01-01T00:00:0{n}Z,2010-04-01,1,,"
        f"AC{'2' * 32},SMf{n:031x},outbound-api,-0.00790,USD\r\n"
        for n, to in enumerate(recipients)
    ).encode()

    def append() -> None:
        with open(export, "ab") as handle:
            handle.write(appended)

    result = import_while_changing(cli, monkeypatch, db, export, append)

    assert result.exit_code == 1
    read = f"{size:,} bytes when opened, {size + len(appended):,} read"
    assert result.stderr == changed_line(export, read) + "\n"
    # Left unfinished, as a killed import is.
    assert query(
        db, "SELECT rows_read, rejected, sha256, finished_at FROM imports"
    ) == [(30_003, 0, hashlib.sha256(export.read_bytes()).hexdigest(), None)]

    assert import_in_process(cli, db, export).exit_code == 0
    clean = tmp_path / "clean.db"
    new_pool(clean)
    assert import_in_process(cli, clean, export).exit_code == 0
    assert state(db) == state(clean)
    assert (
        query(
            db,
            "SELECT number FROM contacts WHERE contact IN "
            f"({', '.join(repr(to) for to in recipients)})",
        )
        == [(SENDERS[4],)] * 3
    )


def test_a_file_rewritten_in_place_while_it_is_read_is_said_to_have_changed(
    tmp_path, cli, monkeypatch, export
):
    db = tmp_path / "rewritten.db"
    new_pool(db)
    whole = export.read_bytes()
    # The same bytes but for one message id near the end: the same size.
    at = whole.rindex(b",SM") + 3
    rewritten = whole[:at] + b"f" + whole[at + 1 :]

    def rewrite() -> None:
        with open(export, "r+b") as handle:
            handle.write(rewritten)
        os.utime(export, ns=(1, 1))  # a new modification time, whatever the clock

    result = import_while_changing(cli, monkeypatch, db, export, rewrite)

    assert result.exit_code == 1
    assert result.stderr == changed_line(export, "written to in place") + "\n"
    assert query(db, "SELECT rows_read, sha256, finished_at FROM imports") == [
        (30_000, hashlib.sha256(rewritten).hexdigest(), None)
    ]


def test_a_read_error_in_the_reader_is_one_line_naming_the_file(
    tmp_path, cli, monkeypatch, export
):
    db = tmp_path / "eio.db"
    new_pool(db)

    def fail() -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(run, "make_row_builder", dying_after(15_000, fail))
    result = import_in_process(cli, db, export)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {export}: reading stopped ({os.strerror(errno.EIO)}); "
        "run the same import again to finish it\n"
    )
    assert query(db, "SELECT finished_at FROM imports") == [(None,)]


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def has_ended(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def large_import_and_its_reader(tmp_path) -> tuple[Path, Path, object, int]:
    """A fresh pool, a large export, its import started in another process,
    and the pid of that import's reading child once it exists."""
    db = tmp_path / "pool.db"
    new_pool(db)
    export = tmp_path / "large.csv"
    write_export(export, 150_000)
    assert smsctl(db, "config", "set", "import.wait_seconds", "0").returncode == 0
    process = start_import(db, export)
    deadline = time.monotonic() + 60
    readers: list[int] = []
    while not readers and time.monotonic() < deadline and process.poll() is None:
        readers = children_of(process.pid)
        time.sleep(0.005)
    if len(readers) != 1:
        process.kill()
        process.wait()
        pytest.fail(f"no single reading child appeared: {readers}")
    return db, export, process, readers[0]


def wait_until_ended(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not has_ended(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return has_ended(pid)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_killing_an_import_frees_the_lock_at_once_and_ends_its_reader(tmp_path):
    db, export, process, reader = large_import_and_its_reader(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    # The reader never held the import lock: a new import may start at once.
    rerun = smsctl(db, "logs", "import", "--quiet", str(export))
    assert rerun.returncode == 0, rerun.stderr
    assert wait_until_ended(reader)


def test_a_reader_that_dies_on_one_file_leaves_the_next_files_imported(
    tmp_path, cli, monkeypatch, export
):
    db = tmp_path / "two.db"
    new_pool(db)
    second = FIXTURES / "telnyx_mdr.csv"
    monkeypatch.setattr(
        run, "make_row_builder", dying_after(25_000, lambda: os._exit(9))
    )
    result = import_in_process(cli, db, export, second)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {export}: the process reading it ended before the file did; "
        "run the same import again to finish it\n"
    )
    assert result.stdout == (
        f"{second}: Telnyx message detail records, 12 read, 12 added, "
        "0 updated, 0 unchanged, 0 rejected\n"
    )
    assert query(db, "SELECT file, finished_at IS NOT NULL FROM imports") == [
        (str(export), 0),
        (str(second), 1),
    ]


def test_a_named_pipe_is_refused_at_once_without_waiting_for_a_writer(tmp_path):
    db = tmp_path / "fifo.db"
    new_pool(db)
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    done = smsctl(db, "logs", "import", str(fifo))
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: {fifo} is not a regular file (a pipe or a device); "
        "save the export to a file and give that\n"
    )
    assert query(db, "SELECT count(*) FROM imports") == [(0,)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")
def test_a_stopped_reader_ends_with_its_killed_parent(tmp_path):
    _, _, process, reader = large_import_and_its_reader(tmp_path)
    os.kill(reader, signal.SIGSTOP)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert wait_until_ended(reader)
