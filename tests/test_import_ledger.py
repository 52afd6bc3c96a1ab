"""The import ledger: what each import read, added, updated and rejected."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import DATA

FIXTURES = DATA / "import"


def history(cli) -> list[dict]:
    return json.loads(cli.ok("logs", "history", "--format", "json").stdout)


def test_history_lists_each_import_with_the_files_sha256(pool):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "overlap_early.csv"))
    pool(
        "logs",
        "import",
        "--quiet",
        str(FIXTURES / "overlap_late.csv"),
        str(FIXTURES / "bad_rows.csv"),
    )

    def sha256(name: str) -> str:
        return hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()

    def entry(id_, name, read, added, updated, unchanged, rejected) -> dict:
        return {
            "id": id_,
            "file": str((FIXTURES / name).resolve()),
            "sha256": sha256(name),
            "provider": "twilio",
            "started_at": "2026-12-04T12:00:00Z",
            "finished_at": "2026-12-04T12:00:00Z",
            "rows_read": read,
            "added": added,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": rejected,
        }

    assert history(pool) == [
        entry(1, "overlap_early.csv", 4, 4, 0, 0, 0),
        entry(2, "overlap_late.csv", 4, 1, 2, 1, 0),
        entry(3, "bad_rows.csv", 9, 3, 0, 0, 6),
    ]


def test_sha256_covers_the_whole_file_even_when_rows_are_rejected(pool):
    name = FIXTURES / "invalid_utf8_row.csv"
    pool("logs", "import", "--quiet", str(name))
    [entry] = history(pool)
    assert entry["sha256"] == hashlib.sha256(name.read_bytes()).hexdigest()
    assert (entry["rows_read"], entry["added"], entry["rejected"]) == (262, 261, 1)


def test_history_names_the_provider_of_each_format(pool):
    for name in ("telnyx_mdr.csv", "plivo_mdr.csv", "twilio_page.json"):
        pool.ok("logs", "import", "--quiet", str(FIXTURES / name))
    pool(
        "logs",
        "import",
        "--quiet",
        "--map",
        "id=MessageId,from=Sender," "to=Recipient,status=State,sent_at=When",
        str(FIXTURES / "generic.csv"),
    )
    assert [e["provider"] for e in history(pool)] == [
        "telnyx",
        "plivo",
        "twilio",
        "generic",
    ]


def test_history_as_csv_and_as_a_table(pool):
    pool.ok("logs", "import", "--quiet", str(FIXTURES / "crlf.csv"))
    lines = pool.ok("logs", "history", "--format", "csv").stdout.splitlines()
    assert lines[0] == (
        "id,file,sha256,provider,started_at,finished_at,rows_read,"
        "added,updated,unchanged,rejected"
    )
    assert lines[1].endswith(
        ",twilio,2026-12-04T12:00:00Z,2026-12-04T12:00:00Z," "2,2,0,0,0"
    )
    table = pool.ok("logs", "history").stdout
    assert "crlf.csv" in table


def test_a_refused_file_leaves_no_ledger_entry(pool):
    pool("logs", "import", "--quiet", str(FIXTURES / "no_header.csv"))
    assert history(pool) == []
