"""The one door to the database: creating, opening, refusing, migrating."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from smsctl import message_keys, migrations
from smsctl import store as store_module
from smsctl.cli.failures import failure_report
from smsctl.errors import NoDatabaseError, UsageError
from smsctl.migrations import MIGRATIONS
from smsctl.numbers import add_number, init_database
from smsctl.store import open_store
from tests.conftest import SAMPLE_EXPORT, interrupt_smsctl


def test_new_database_is_readable_by_its_owner_only(cli, db_path):
    cli.ok("init", "--main", "+14155550100")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_new_database_in_a_new_directory(cli, tmp_path):
    path = tmp_path / "deep" / "er" / "pool.db"
    cli.ok("init", "--main", "+14155550100", "--db", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("under", ["afile", "afile/deeper"])
def test_new_database_under_a_file_is_refused_in_one_line(cli, tmp_path, under):
    (tmp_path / "afile").write_text("not a folder")
    path = tmp_path / under / "pool.db"
    result = cli("init", "--main", "+14155550100", "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot create {path}: a part of its folder is a file, not a "
        "folder; choose another --db path\n"
    )
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_new_database_in_a_folder_that_cannot_be_made_is_refused(cli):
    # No one, root included, may make a folder at the top of /proc.
    path = Path("/proc/smsctl-test/pool.db")
    result = cli("init", "--main", "+14155550100", "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: cannot create the folder of {path} (/proc/smsctl-test): "
        "No such file or directory; choose another --db path\n"
    )


@pytest.mark.parametrize(
    "command", [["init", "--main", "+14155550100"], ["numbers", "list"]]
)
def test_a_db_path_the_system_refuses_is_one_line(cli, tmp_path, command):
    path = tmp_path / ("a" * 300) / "pool.db"
    result = cli(*command, "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"Error: cannot use --db {path}: File name too long\n"


def test_open_store_sets_pragmas_and_records_migrations(db_path):
    init_database(db_path, "+14155550100")
    store = open_store(db_path)
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") == 30_000
    assert store.scalar("PRAGMA user_version") == len(MIGRATIONS)
    names = [row[0] for row in store.execute("SELECT name FROM _sqlite_migrations")]
    assert names == [function.__name__ for function in MIGRATIONS]


def test_missing_database_asks_for_init(db_path):
    with pytest.raises(NoDatabaseError) as refused:
        open_store(db_path)
    assert str(refused.value) == (
        f"no database at {db_path}; run 'smsctl init --main PHONE' first "
        "(or point --db / SMSCTL_DB at an existing one)"
    )
    assert not db_path.exists()
    assert list(db_path.parent.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [b"", b"From,To,Status\n+14155550101,+12125550100,delivered\n", b"\x00" * 4096],
)
def test_a_file_that_is_not_a_database_is_refused_unchanged(cli, tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    result = cli("numbers", "list", "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path} is not an smsctl database; point --db at the file "
        "'smsctl init' created\n"
    )
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_another_sqlite_database_is_refused_unchanged(cli, tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    result = cli("overview", "--db", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path} is an SQLite file but not an smsctl database; "
        "point --db at the file 'smsctl init' created\n"
    )
    assert path.read_bytes() == before


def test_a_directory_is_refused(cli, tmp_path):
    result = cli("numbers", "list", "--db", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --db {tmp_path} is a directory; give the database file's path\n"
    )


def test_a_newer_schema_is_refused(db_path):
    init_database(db_path, "+14155550100")
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(UsageError, match="written by a newer smsctl"):
        open_store(db_path)


def test_init_twice_is_refused_and_keeps_the_database(cli, db_path):
    cli.ok("init", "--main", "+14155550100")
    cli.ok("numbers", "add", "+14155550101")
    before = db_path.read_bytes()
    result = cli("init", "--main", "+14155550199")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {db_path} already exists; choose another --db path or use the "
        "database\n"
    )
    assert db_path.read_bytes() == before


def test_init_with_a_bad_main_line_creates_nothing(cli, db_path):
    result = cli("init", "--main", "555-0100")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: main line '555-0100' is not a valid")
    assert not db_path.exists()
    assert list(db_path.parent.iterdir()) == []


NON_INIT_COMMANDS = [
    ["numbers", "list"],
    ["numbers", "show", "+14155550101"],
    ["numbers", "add", "+14155550101"],
    ["numbers", "available", "+14155550101"],
    ["numbers", "unavailable", "+14155550101"],
    ["numbers", "remove", "+14155550101"],
    ["overview"],
    ["overview", "--history", "3"],
    ["drips", "list"],
    ["drips", "add", "Spring", "--from", "+14155550101"],
    ["drips", "pause", "1"],
    ["drips", "resume", "1"],
    ["drips", "end", "1"],
    ["config", "list"],
    ["config", "get", "billing.allotment"],
    ["config", "set", "billing.allotment", "500"],
    ["logs", "history"],
    ["logs", "import", "--quiet", str(SAMPLE_EXPORT)],
    ["optouts", "list"],
    ["send-from", "pick", "--to", "+12125550100"],
]


@pytest.mark.parametrize("args", NON_INIT_COMMANDS, ids=" ".join)
def test_every_command_on_a_missing_database_says_to_run_init(cli, db_path, args):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: no database at {db_path}; run 'smsctl init --main PHONE' first "
        "(or point --db / SMSCTL_DB at an existing one)\n"
    )
    assert not db_path.exists()
    assert list(db_path.parent.iterdir()) == []


def test_a_database_smsctl_cannot_write_is_exit_2_naming_the_need(db_path):
    init_database(db_path, "+14155550100")
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        with pytest.raises(sqlite3.OperationalError) as raised:
            conn.execute("DELETE FROM settings")
    assert failure_report(raised.value) == (
        "the database cannot be written (attempt to write a readonly database); "
        "smsctl needs to write the --db file and the folder it is in",
        2,
    )


def test_a_busy_database_is_exit_1_asking_to_try_again(db_path):
    init_database(db_path, "+14155550100")
    with closing(sqlite3.connect(db_path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with closing(sqlite3.connect(db_path, timeout=0)) as conn:
            with pytest.raises(sqlite3.OperationalError) as raised:
                conn.execute("DELETE FROM settings")
    assert failure_report(raised.value) == (
        "the database is busy or unwritable (database is locked); try again",
        1,
    )


# --- m002: messages unique by key -----------------------------------------------

SF_1, SF_2, NY = "+14155550101", "+14155550102", "+12125550143"
SCHEMA_1_MESSAGES = [
    # id, provider, message_id, from, to, status, error code, detail, rank, import
    (3, "twilio", "SM01", SF_1, "+12125550140", "delivered", "", "delivered", 2, None),
    (8, "twilio", "SM02", SF_1, "+12125550141", "queued", "", "pending", 0, None),
    (20, "telnyx", "SM02", SF_2, NY, "delivery_failed", "40002", "blocked_spam", 2, 1),
    (21, "twilio", "SM03", NY, SF_2, "received", "", "inbound", 2, 1),
]
MESSAGE_V1_COLUMNS = (
    "id, provider, message_id, from_number, to_number, outbound, status, "
    "error_code, detail, rank, sent_at, time_source, local_day, updated_at, import_id"
)


IMPORT_V1_COLUMNS = (
    "id, file, sha256, provider, started_at, finished_at, rows_read, added, "
    "updated, unchanged, rejected, outside_pool"
)


def dump(db_path) -> dict[str, list[tuple]]:
    """What an upgrade must keep: every row a person's figures rest on."""
    with closing(sqlite3.connect(db_path)) as conn:
        found = {
            "messages": conn.execute(
                f"SELECT {MESSAGE_V1_COLUMNS} FROM messages ORDER BY id"
            ).fetchall(),
            "schema": conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE name IN "
                "('messages_by_sender', 'messages_tally_insert', "
                "'messages_tally_update') ORDER BY name"
            ).fetchall(),
        }
        # The ledger's columns of schema 1: m004 adds one, empty for these.
        found["imports"] = conn.execute(
            f"SELECT {IMPORT_V1_COLUMNS} FROM imports ORDER BY 1"
        ).fetchall()
        for table in ("numbers", "tallies", "picks", "contacts"):
            found[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    return found


def database_of_schema_1(db_path, monkeypatch) -> dict[str, list[tuple]]:
    """A database as smsctl left it before m002, with texts, a matched pick and
    a sticky contact; returns its dump."""
    with monkeypatch.context() as patched:
        patched.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        init_database(db_path, "+14155550100")
        store = open_store(db_path)
        add_number(store, SF_1)
        add_number(store, SF_2)
        with store.transaction() as conn:
            conn.execute(
                "INSERT INTO imports (id, file, sha256, provider, started_at, "
                "finished_at, rows_read, added) "
                "VALUES (1, 'old.csv', '', 'telnyx', 1796119400, 1796119401, 2, 2)"
            )
            conn.executemany(
                "INSERT INTO messages (id, provider, message_id, from_number, "
                "to_number, status, error_code, detail, rank, import_id, outbound, "
                "sent_at, time_source, local_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, 1796119200, 'sent', '2026-12-01')",
                [(*row, int(row[7] != "inbound")) for row in SCHEMA_1_MESSAGES],
            )
            conn.execute(
                "INSERT INTO tallies VALUES ('+14155550102', '2026-12-01', "
                "'blocked_spam', 1)"
            )
            conn.executemany(
                "INSERT INTO picks (from_number, to_number, picked_at, message_rowid) "
                f"VALUES ('{SF_1}', ?, ?, ?)",
                [("+12125550141", 1796119200, 8), ("+12125550199", 1796119500, None)],
            )
            conn.execute(
                "INSERT INTO contacts VALUES ('+12125550141', '+14155550101', "
                "1796119200, 'pick', NULL)"
            )
        store.close()
    assert migrations.MIGRATIONS[1] is migrations.m002_message_keys
    before = dump(db_path)
    assert before["tallies"] == [
        ("+14155550101", "2026-12-01", "delivered", 1),
        ("+14155550101", "2026-12-01", "pending", 1),
        ("+14155550102", "2026-12-01", "blocked_spam", 1),
    ]
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
    return before


def later_record(tmp_path, sid: str, status: str) -> Path:
    """A Twilio console CSV of one record: text ``sid`` from SF_1 to the
    recipient of SM02, sent at 10:01, now ``status``."""
    path = tmp_path / f"{sid}-{status}.csv"
    path.write_text(
        "From,To,Body,Status,SentDate,ApiVersion,NumSegments,ErrorCode,"
        "AccountSid,Sid,Direction,Price,PriceUnit\n"
        f"+14155550101,+12125550141,Hi,{status},2026-12-01T10:01:00Z,2010-04-01,1,,"
        f"AC{'1' * 32},{sid},outbound-api,-0.00790,USD\n"
    )
    return path


def test_a_database_of_schema_1_upgrades_keeping_every_row(
    cli, db_path, tmp_path, monkeypatch
):
    before = database_of_schema_1(db_path, monkeypatch)
    store = open_store(db_path)
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA user_version") == len(MIGRATIONS)
    names = [row[0] for row in store.execute("SELECT name FROM _sqlite_migrations")]
    assert names == [
        "m001_initial",
        "m002_message_keys",
        "m003_no_time_source_check",
        "m004_imports_first_message",
    ]
    # An import from before m004 does not know where its new messages began.
    assert store.execute("SELECT first_message_id FROM imports").fetchall() == [(None,)]
    assert store.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert store.execute("PRAGMA foreign_key_check").fetchall() == []
    indexes = {row[1]: row[2] for row in store.execute("PRAGMA index_list(messages)")}
    assert indexes == {
        "messages_by_key": 1,
        "messages_overflow": 1,
        "messages_by_sender": 0,
    }
    keys = store.execute("SELECT provider, message_id, message_key FROM messages")
    assert sorted(keys) == sorted(
        (provider, message_id, message_keys.message_key(provider, message_id))
        for _, provider, message_id, *_ in SCHEMA_1_MESSAGES
    )
    store.close()
    assert dump(db_path) == before

    # A later record of a text stored before the upgrade is found and merged.
    result = cli.ok(
        "logs", "import", "--quiet", str(later_record(tmp_path, "SM02", "delivered"))
    )
    assert "1 read, 0 added, 1 updated, 0 unchanged, 0 rejected" in result.stdout
    after = dump(db_path)
    merged = (8, "twilio", "SM02", SF_1, "+12125550141", 1, "delivered", "")
    merged += ("delivered", 2, 1796119260, "sent", "2026-12-01", None, 2)
    assert after["messages"] == [before["messages"][0], merged, *before["messages"][2:]]
    assert after["picks"] == before["picks"]
    assert after["tallies"] == [
        ("+14155550101", "2026-12-01", "delivered", 2),
        ("+14155550101", "2026-12-01", "pending", 0),
        ("+14155550102", "2026-12-01", "blocked_spam", 1),
    ]


def test_an_upgrade_keeps_messages_that_share_a_key(
    cli, db_path, tmp_path, monkeypatch
):
    before = database_of_schema_1(db_path, monkeypatch)
    monkeypatch.setattr(message_keys, "message_key", lambda provider, id_: 7)
    open_store(db_path).close()
    assert dump(db_path) == before
    with closing(sqlite3.connect(db_path)) as conn:
        keys = conn.execute("SELECT id, message_key FROM messages ORDER BY id")
        assert keys.fetchall() == [(3, 7), (8, None), (20, None), (21, None)]

    # Later records merge into the text that has no key; a new text goes
    # without one too.
    for status, counts in [
        ("delivered", "1 read, 0 added, 1 updated, 0 unchanged"),
        ("delivered", "1 read, 0 added, 0 updated, 1 unchanged"),
    ]:
        path = later_record(tmp_path, "SM02", status)
        assert counts in cli.ok("logs", "import", "--quiet", str(path)).stdout
    path = later_record(tmp_path, "SM04", "sent")
    assert "1 read, 1 added" in cli.ok("logs", "import", "--quiet", str(path)).stdout
    with closing(sqlite3.connect(db_path)) as conn:
        found = conn.execute(
            "SELECT id, provider, message_id, status, message_key FROM messages "
            "ORDER BY id"
        ).fetchall()
    assert found == [
        (3, "twilio", "SM01", "delivered", 7),
        (8, "twilio", "SM02", "delivered", None),
        (20, "telnyx", "SM02", "delivery_failed", None),
        (21, "twilio", "SM03", "received", None),
        (22, "twilio", "SM04", "sent", None),
    ]


def test_processes_opening_an_old_database_at_once_upgrade_it_once(
    db_path, monkeypatch
):
    database_of_schema_1(db_path, monkeypatch)
    with closing(sqlite3.connect(db_path)) as conn, conn:
        # Enough texts that the upgrade takes a while: the others wait for it.
        conn.execute(
            f"INSERT INTO messages ({MESSAGE_V1_COLUMNS}) "
            "WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 200100) "
            f"SELECT i, 'twilio', 'SMX' || i, '{SF_1}', '+12125550141', 1, "
            "'delivered', '', 'delivered', 2, 1796119200, 'sent', '2026-12-01', "
            "NULL, 1 FROM n"
        )
    env = dict(os.environ, SMSCTL_DB=str(db_path))
    listing = [sys.executable, "-m", "smsctl", "numbers", "list", "--format", "json"]
    processes = [
        subprocess.Popen(
            listing, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    finished = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], finished
    assert [err for _, err in finished] == [b"", b"", b""]
    assert len({out for out, _ in finished}) == 1
    with closing(sqlite3.connect(db_path)) as conn:
        applied = conn.execute(
            "SELECT name FROM _sqlite_migrations ORDER BY id"
        ).fetchall()
        assert applied == [
            ("m001_initial",),
            ("m002_message_keys",),
            ("m003_no_time_source_check",),
            ("m004_imports_first_message",),
        ]
        assert (
            conn.execute("SELECT count(*), count(message_key) FROM messages").fetchone()
            == (200_001 + len(SCHEMA_1_MESSAGES),) * 2
        )


# --- m003: no CHECK on messages.time_source ------------------------------------


def messages_sql(db_path) -> str:
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
        ).fetchone()[0]


def test_a_database_of_schema_2_loses_the_check_and_keeps_every_row(
    cli, db_path, monkeypatch
):
    with monkeypatch.context() as patched:
        # Today's importer records where its messages begin (m004's column).
        patched.setattr(
            migrations,
            "MIGRATIONS",
            [*migrations.MIGRATIONS[:2], migrations.m004_imports_first_message],
        )
        init_database(db_path, "+14155550100")
        cli.ok("logs", "import", "--quiet", str(SAMPLE_EXPORT))
    before = dump(db_path)
    assert len(before["messages"]) == 30
    schema_2 = messages_sql(db_path)
    assert schema_2.count(migrations.TIME_SOURCE_CHECK) == 1

    store = open_store(db_path)
    assert store.scalar("PRAGMA user_version") == len(MIGRATIONS)
    assert store.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    store.close()
    assert messages_sql(db_path) == schema_2.replace(migrations.TIME_SOURCE_CHECK, "")
    assert dump(db_path) == before
    # The table takes rows as before.
    cli.ok("logs", "import", "--quiet", str(SAMPLE_EXPORT))
    assert dump(db_path)["messages"] == before["messages"]


def test_a_new_database_has_no_check_on_messages(db_path):
    init_database(db_path, "+14155550100")
    assert "CHECK" not in messages_sql(db_path)


def test_an_altered_messages_table_is_refused_in_one_line(cli, db_path, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
        init_database(db_path, "+14155550100")
        open_store(db_path).close()
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("ALTER TABLE messages ADD COLUMN note TEXT")
        conn.execute("ALTER TABLE messages RENAME COLUMN time_source TO source")
    result = cli("numbers", "list", "--format", "json")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {db_path} cannot be used as an smsctl database: its messages "
        "table is not as smsctl made it\n"
    )
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (2,)


def test_an_upgrade_kept_waiting_too_long_says_the_database_is_busy(
    cli, db_path, monkeypatch
):
    database_of_schema_1(db_path, monkeypatch)
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    with closing(sqlite3.connect(db_path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        result = cli("numbers", "list", "--format", "json")
        holder.execute("ROLLBACK")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the database is busy or unwritable (database is locked); " "try again\n"
    )
    cli.ok("numbers", "list", "--format", "json")
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)


def test_a_write_lock_held_past_the_busy_timeout_is_reported_busy(db_path, monkeypatch):
    init_database(db_path, "+14155550100")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 400)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    store = open_store(db_path)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError) as raised:
        store.begin()
    waited = time.monotonic() - started
    holder.execute("ROLLBACK")
    assert str(raised.value) == "database is locked"
    assert 0.4 <= waited < 5
    assert not store.conn.in_transaction
    # The short tries leave the connection's own timeout as it was.
    assert store.scalar("PRAGMA busy_timeout") == 400
    store.begin()
    assert store.conn.in_transaction
    store.rollback()
    store.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_ctrl_c_while_waiting_to_write_is_one_line_and_writes_nothing(cli, db_path):
    cli.ok("init", "--main", "+14155550100")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    code, out, err, _ = interrupt_smsctl(db_path, "numbers", "add", "+14155550101")
    holder.execute("ROLLBACK")
    assert (code, out, err) == (
        130,
        "",
        "Error: interrupted (a change it had already saved is kept)\n",
    )
    assert holder.execute("SELECT count(*) FROM numbers").fetchone() == (1,)
