"""The one door to the database: creating, opening, refusing, migrating."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from smsctl.errors import NoDatabaseError, UsageError
from smsctl.migrations import MIGRATIONS
from smsctl.numbers import init_database
from smsctl.store import open_store
from tests.conftest import SAMPLE_EXPORT


def test_new_database_is_readable_by_its_owner_only(cli, db_path):
    cli.ok("init", "--main", "+14155550100")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600


def test_new_database_in_a_new_directory(cli, tmp_path):
    path = tmp_path / "deep" / "er" / "pool.db"
    cli.ok("init", "--main", "+14155550100", "--db", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


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
