"""Messages stored by their 64-bit key, and messages that share a key."""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, timedelta

import pytest

from smsctl import message_keys
from smsctl.importing import ImportOptions, import_files, pipeline
from smsctl.importing.records import ROW_COLUMNS, ROW_KEY, make_row_builder
from smsctl.numbers import add_number, init_database
from smsctl.picking import pick_sender
from smsctl.store import Store, open_store
from tests.test_import_traps import (
    FIXTURES,
    ORDER_FILES,
    OVERLAP,
    OVERLAP_RESULT,
    S1,
    S2,
    sid,
    state_after,
    stored,
)
from tests.twilio_export import Text, utc, write_export

NOW = utc("2026-12-04T12:00:00Z")
REAL_KEY = message_keys.message_key


def one_key(provider: str, message_id: str) -> int:
    """Every message the same key: all but the first stored go without one."""
    return 7


def three_keys(provider: str, message_id: str) -> int:
    """Messages of every provider spread over three keys, one of them negative."""
    return ord(message_id[-1]) % 3 - 1


def keys_against_the_file(provider: str, message_id: str) -> int:
    """Keys that fall as the file's Sids rise: rows are stored in reverse."""
    return -int(message_id[2:], 16)


KEY_FUNCTIONS = {"real": REAL_KEY, "one_key": one_key, "three_keys": three_keys}


def use_keys(monkeypatch, name: str) -> None:
    monkeypatch.setattr(message_keys, "message_key", KEY_FUNCTIONS[name])


# Rows read and stored together: the usual size (every fixture is one chunk),
# and sizes that make a file of stored rows look its keys up before inserting.
CHUNK_SIZES = [pipeline.CHUNK_ROWS, 1, 2]


def use_chunks(monkeypatch, rows: int) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", rows)


def query(db_path, sql: str, params=()) -> list[tuple]:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(sql, params).fetchall()


def keyless(db_path) -> int:
    """How many messages are stored without a key, their key being taken."""
    [(count,)] = query(
        db_path, "SELECT count(*) FROM messages WHERE message_key IS NULL"
    )
    return count


def listing(cli) -> dict[str, tuple]:
    """number -> (delivered, blocked, provider_not_found, total_sent), all time."""
    rows = json.loads(
        cli.ok("numbers", "list", "--all-time", "--format", "json").stdout
    )
    return {
        row["number"]: (
            row["delivered"],
            row["blocked"],
            row["undelivered_detail"]["provider_not_found"],
            row["total_sent"],
        )
        for row in rows
    }


def import_counts(cli, name: str) -> str:
    """The counts ``logs import`` prints for the overlap fixture ``name``."""
    out = cli.ok("logs", "import", "--quiet", str(FIXTURES / name)).stdout
    first = out.splitlines()[0]
    return first[first.index(", ") + 2 :]


@pytest.mark.parametrize(
    "provider, message_id, key",
    [
        ("twilio", "SM00000000000000000000000000000001", -2192079760330369166),
        ("telnyx", "4c3a0000-0000-4000-8000-000000000901", -1940297370047118782),
        ("twilio", "SM\udcff", -9167491391393012101),
        ("", "", -7712737833812065720),
    ],
)
def test_message_key_is_blake2b_of_provider_and_id(provider, message_id, key):
    assert REAL_KEY(provider, message_id) == key


def test_message_key_is_the_same_in_another_process():
    code = (
        "from smsctl.message_keys import message_key; "
        "print(message_key('twilio', 'SM00000000000000000000000000000001'))"
    )
    for seed in ("1", "2"):
        found = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        )
        assert found.stdout == "-2192079760330369166\n"


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
@pytest.mark.parametrize("keys", list(KEY_FUNCTIONS))
def test_messages_sharing_a_key_are_each_stored_once_and_merged_right(
    pool, db_path, monkeypatch, keys, chunk_rows
):
    use_keys(monkeypatch, keys)
    use_chunks(monkeypatch, chunk_rows)
    counts = [import_counts(pool, name) for name in OVERLAP * 2]
    assert counts == [
        "4 read, 4 added, 0 updated, 0 unchanged, 0 rejected",
        "4 read, 1 added, 2 updated, 1 unchanged, 0 rejected",
        "3 read, 1 added, 2 updated, 0 unchanged, 0 rejected",
        "4 read, 0 added, 0 updated, 4 unchanged, 0 rejected",
        "4 read, 0 added, 0 updated, 4 unchanged, 0 rejected",
        "3 read, 0 added, 0 updated, 3 unchanged, 0 rejected",
    ]
    history = json.loads(pool.ok("logs", "history", "--format", "json").stdout)
    assert [(i["added"], i["updated"], i["unchanged"]) for i in history] == [
        (4, 0, 0),
        (1, 2, 1),
        (1, 2, 0),
        (0, 0, 4),
        (0, 0, 4),
        (0, 0, 3),
    ]
    assert stored(db_path) == OVERLAP_RESULT
    assert query(db_path, "SELECT count(*) FROM messages") == [(6,)]
    assert keyless(db_path) == {"real": 0, "one_key": 5, "three_keys": 3}[keys]
    assert listing(pool) == {
        "+14155550100": (0, 0, 0, 0),
        S1: (1, 1, 1, 3),
        S2: (3, 0, 0, 3),
        "+14155550103": (0, 0, 0, 0),
    }


@pytest.mark.parametrize("keys", ["one_key", "three_keys"])
@pytest.mark.parametrize("order", list(itertools.permutations(OVERLAP)))
def test_messages_sharing_a_key_come_out_the_same_in_any_file_order(
    pool, db_path, monkeypatch, keys, order
):
    use_keys(monkeypatch, keys)
    for name in order:
        pool.ok("logs", "import", "--quiet", str(FIXTURES / name))
    assert stored(db_path) == OVERLAP_RESULT
    assert listing(pool)[S1] == (1, 1, 1, 3)
    assert listing(pool)[S2] == (3, 0, 0, 3)


@pytest.fixture
def reference(tmp_path_factory) -> tuple:
    """The state after the fixtures of several providers, with real keys."""
    return state_after(tmp_path_factory.mktemp("real") / "smsctl.db", ORDER_FILES)


@pytest.mark.parametrize("chunk_rows", CHUNK_SIZES)
@pytest.mark.parametrize("keys", ["one_key", "three_keys"])
@pytest.mark.parametrize(
    "names",
    [ORDER_FILES, ORDER_FILES[::-1], [*ORDER_FILES[3:], *ORDER_FILES, *OVERLAP]],
    ids=["forward", "reversed", "repeated"],
)
def test_shared_keys_across_providers_give_the_state_real_keys_give(
    tmp_path, monkeypatch, reference, keys, names, chunk_rows
):
    use_keys(monkeypatch, keys)
    use_chunks(monkeypatch, chunk_rows)
    assert state_after(tmp_path / "smsctl.db", names) == reference
    assert len(reference[0]) == 40
    assert keyless(tmp_path / "smsctl.db") == {"one_key": 39, "three_keys": 37}[keys]


def pool_with_a_pick(db_path, to: str) -> Store:
    """A pool of the main line and S1, and a pick of S1 for ``to`` at NOW."""
    init_database(db_path, "+14165550100")
    store = open_store(db_path)
    add_number(store, S1)
    assert pick_sender(store, to, NOW).from_ == S1
    return store


def test_a_pick_goes_to_the_first_text_of_the_file_whatever_the_keys(
    db_path, tmp_path, monkeypatch
):
    monkeypatch.setattr(message_keys, "message_key", keys_against_the_file)
    to = "+14155552000"
    store = pool_with_a_pick(db_path, to)
    texts = [Text(S1, to, NOW + timedelta(minutes=m)) for m in (1, 2, 3)]
    import_files(store, [write_export(tmp_path / "t.csv", texts)], ImportOptions())
    ids = dict(store.execute("SELECT message_id, id FROM messages").fetchall())
    assert sorted(ids, key=ids.get) == [sid(2), sid(1), sid(0)]
    assert store.scalar("SELECT message_rowid FROM picks") == ids[sid(0)]
    store.close()


def test_a_text_stored_without_a_key_uses_up_its_pick(db_path, tmp_path, monkeypatch):
    use_keys(monkeypatch, "one_key")
    to = "+14155552001"
    store = pool_with_a_pick(db_path, to)
    texts = [
        Text(S1, "+14155552000", NOW + timedelta(minutes=1)),
        Text(S1, to, NOW + timedelta(minutes=2)),
    ]
    import_files(store, [write_export(tmp_path / "t.csv", texts)], ImportOptions())
    matched = store.one(
        "SELECT m.message_id, m.message_key FROM picks AS p "
        "JOIN messages AS m ON m.id = p.message_rowid"
    )
    assert matched == (sid(1), None)
    store.close()


def test_a_row_ends_with_the_key_of_its_provider_and_id():
    seen = []

    def key_of(provider: str, message_id: str) -> int:
        seen.append((provider, message_id))
        return -42

    # Where each of formats.FIELDS is in the record: id, from, to, status, sent.
    columns = [0, 1, 2, 3, None, None, 4, None, None, None]
    fields = [" SM01 ", S1, "+12125550140", "delivered", "2026-12-01T10:00:00Z"]
    build = make_row_builder("twilio", columns, UTC, 0, UTC, [])
    assert build(fields)[ROW_KEY] == REAL_KEY("twilio", "SM01")
    build = make_row_builder("twilio", columns, UTC, 0, UTC, [], key_of=key_of)
    assert build(fields)[ROW_KEY] == -42
    assert seen == [("twilio", "SM01")]
    assert ROW_COLUMNS[ROW_KEY] == "message_key" == ROW_COLUMNS[-1]
