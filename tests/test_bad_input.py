"""Random and mangled input: always a clean error, never a traceback.

Files are fed through the real ``logs import`` command; arguments through
every command. A refused file leaves the database exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smsctl.errors import InvalidPhoneError
from smsctl.phones import normalize_phone
from tests.cli_reading import dump
from tests.conftest import SAMPLE_EXPORT

SAMPLE = SAMPLE_EXPORT.read_bytes()
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def import_bytes(cli, tmp_path: Path, content: bytes, name: str = "export.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return cli("logs", "import", "--quiet", str(path))


def assert_clean(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr
    assert result.exit_code in (0, 1, 2, 3, 4)


def import_and_check(cli, tmp_path: Path, content: bytes):
    """Import ``content``: a clean exit, and a refused file changes nothing."""
    db = tmp_path / "smsctl.db"
    before = dump(db)
    result = import_bytes(cli, tmp_path, content)
    assert_clean(result)
    if result.exit_code == 2:
        assert dump(db) == before
    return result


def mutations() -> st.SearchStrategy[bytes]:
    """The sample export truncated, spliced with junk, re-delimited or bloated."""
    cut = st.integers(min_value=0, max_value=len(SAMPLE))
    junk = st.binary(min_size=1, max_size=200)
    return st.one_of(
        cut.map(lambda n: SAMPLE[:n]),
        st.tuples(cut, junk).map(lambda t: SAMPLE[: t[0]] + t[1] + SAMPLE[t[0] :]),
        st.tuples(cut, cut).map(lambda t: SAMPLE[: min(t)] + SAMPLE[max(t) :]),
        st.just(SAMPLE.replace(b",", b";")),
        st.just(SAMPLE.replace(b",", b"\t")),
        st.just(SAMPLE.split(b"\r\n", 1)[0] + b"\r\n"),
        st.just(SAMPLE.replace(b"Hello", b"x" * 300_000)),
        st.just(SAMPLE.replace(b"+1415", b"\xff\xfe+1415", 3)),
        st.just(SAMPLE.replace(b"From,To", b"Sender,Recipient")),
    )


@FUZZ
@given(content=st.binary(max_size=4000))
def test_random_bytes_are_refused_cleanly_and_change_nothing(pool, tmp_path, content):
    result = import_and_check(pool, tmp_path, content)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1


@FUZZ
@given(content=mutations())
def test_mangled_exports_keep_good_rows_and_never_crash(pool, tmp_path, content):
    import_and_check(pool, tmp_path, content)


@FUZZ
@given(text=st.text(max_size=40))
def test_phone_parser_returns_e164_or_refuses(text):
    try:
        number = normalize_phone(text)
    except InvalidPhoneError as exc:
        assert "phone number" in str(exc)
        return
    assert number.startswith("+") and number[1:].isdigit()
    assert normalize_phone(number) == number


ARGUMENT_VECTORS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "numbers",
                "add",
                "list",
                "show",
                "remove",
                "available",
                "unavailable",
                "overview",
                "send-from",
                "pick",
                "reset",
                "logs",
                "import",
                "history",
                "drips",
                "pause",
                "resume",
                "end",
                "optouts",
                "config",
                "get",
                "set",
                "--format",
                "json",
                "csv",
                "xml",
                "--to",
                "--since",
                "--all-time",
                "--period",
                "--history",
                "--file",
                "--column",
                "--from",
                "--dry-run",
                "--explain",
                "--reassign-drips-to",
                "billing.allotment",
                "-1",
                "2026-02-30",
                "+14155550101",
                "not-a-phone",
                "",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=6,
)


@FUZZ
@given(args=ARGUMENT_VECTORS)
def test_any_arguments_give_a_clean_exit(pool, args):
    result = pool(*args)
    assert_clean(result)
    if result.exit_code == 2:
        # one line for our own usage errors; Typer's --help/no-args help is longer
        assert result.stderr.count("Error:") <= 1
