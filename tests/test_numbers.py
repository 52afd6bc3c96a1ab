"""The pool and per-number figures, called directly on a store."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from smsctl.clock import now
from smsctl.errors import InvalidPhoneError, RuleError, UsageError
from smsctl.figures import health_by_number, health_percent, is_unhealthy
from smsctl.importing import ImportOptions, import_files
from smsctl.numbers import (
    add_number,
    all_numbers,
    find_number,
    init_database,
    remove_number,
    set_available,
)
from smsctl.settings import load_settings
from smsctl.store import open_store
from tests.twilio_export import Text, utc, write_export

NOW = utc("2026-12-04T12:00:00Z")  # conftest's SMSCTL_NOW


@pytest.fixture
def store(db_path):
    init_database(db_path, "+14155550100")
    opened = open_store(db_path)
    for number in ("+14155550101", "+14155550102"):
        add_number(opened, number)
    yield opened
    opened.close()


def import_texts(store, tmp_path, texts, batch=0):
    path = write_export(tmp_path / f"export{batch}.csv", texts, batch)
    [result] = import_files(store, [path], ImportOptions())
    assert result.exit_code == 0, result
    return result


@pytest.mark.parametrize(
    "delivered, blocked, expected",
    [
        (2, 1, "66.7"),
        (1, 2, "33.3"),
        (5, 1, "83.3"),
        (1, 7, "12.5"),
        (5, 0, "100.0"),
        (0, 5, "0.0"),
        (1, 399, "0.3"),  # 0.25: half-up, not to even
        (101, 299, "25.3"),  # 25.25
        (3, 397, "0.8"),  # 0.75
        (2, 1998, "0.1"),  # 0.1 exactly
        (1, 1999, "0.1"),  # 0.05
    ],
)
def test_health_is_rounded_half_up_to_one_decimal(delivered, blocked, expected):
    assert health_percent(delivered, blocked) == Decimal(expected)


def test_no_delivered_or_blocked_text_means_no_health_yet():
    assert health_percent(0, 0) is None


@pytest.mark.parametrize(
    "health, judged, unhealthy",
    [
        (Decimal("69.9"), 20, True),
        (Decimal("70.0"), 20, False),
        (Decimal("10.0"), 19, False),
        (Decimal("0.0"), 500, True),
        (None, 0, False),
    ],
)
def test_unhealthy_needs_low_health_and_enough_texts(store, health, judged, unhealthy):
    assert is_unhealthy(health, judged, load_settings(store)) is unhealthy


def test_health_window_excludes_its_start_and_includes_now(store, tmp_path):
    window_start = NOW - timedelta(days=15)
    texts = [
        Text("+14155550101", "+12125550001", window_start, "blocked_spam"),
        Text("+14155550101", "+12125550002", window_start + timedelta(seconds=1)),
        Text("+14155550101", "+12125550003", NOW),
        Text("+14155550101", "+12125550004", NOW, "blocked_spam"),
        Text(
            "+14155550101", "+12125550005", NOW + timedelta(seconds=1), "blocked_spam"
        ),
    ]
    import_texts(store, tmp_path, texts)
    health = health_by_number(store, now(), load_settings(store))
    assert (health["+14155550101"].delivered, health["+14155550101"].blocked) == (2, 1)
    assert health["+14155550101"].percent == Decimal("66.7")
    assert health["+14155550102"].percent is None


def test_undelivered_texts_do_not_lower_health(store, tmp_path):
    texts = [Text("+14155550101", "+12125550001", NOW - timedelta(hours=1))]
    texts += [
        Text("+14155550101", f"+1212555010{i}", NOW - timedelta(hours=2), detail)
        for i, detail in enumerate(
            ["failed", "opted_out", "provider_not_found", "line_deactivated"]
        )
    ]
    import_texts(store, tmp_path, texts)
    health = health_by_number(store, now(), load_settings(store))["+14155550101"]
    assert health.percent == Decimal("100.0")
    assert health.judged == 1


def test_health_window_follows_the_setting(store, tmp_path):
    texts = [
        Text("+14155550101", "+12125550001", NOW - timedelta(days=3), "blocked_spam"),
        Text("+14155550101", "+12125550002", NOW - timedelta(days=1)),
    ]
    import_texts(store, tmp_path, texts)
    from smsctl.settings import store_setting

    store_setting(store, "health.window_days", "2")
    health = health_by_number(store, now(), load_settings(store))["+14155550101"]
    assert health.percent == Decimal("100.0")


def test_add_number_normalises_and_refuses_duplicates(store):
    added = add_number(store, "(415) 555-0103", available=False)
    assert (added.number, added.available, added.is_main) == (
        "+14155550103",
        False,
        False,
    )
    with pytest.raises(RuleError, match=r"^\+14155550103 is already in the pool$"):
        add_number(store, "415.555.0103")
    with pytest.raises(InvalidPhoneError):
        add_number(store, "555-0103")


def test_main_line_cannot_be_removed(store):
    with pytest.raises(RuleError) as refused:
        remove_number(store, "+14155550100")
    assert str(refused.value) == "+14155550100 is the main line and cannot be removed"
    assert not find_number(store, "+14155550100").removed


def test_removing_an_unknown_number_is_refused(store):
    with pytest.raises(RuleError) as refused:
        remove_number(store, "+14155550199")
    assert str(refused.value) == (
        "+14155550199 is not in the pool; add it with "
        "'smsctl numbers add +14155550199'"
    )


def test_reassigning_drips_to_the_same_number_is_refused(store):
    with pytest.raises(UsageError, match="another number in the pool"):
        remove_number(store, "+14155550101", reassign_drips_to="+14155550101")


def test_removal_forgets_sticky_contacts_and_keeps_messages(store, tmp_path):
    texts = [
        Text("+14155550101", "+12125550001", NOW - timedelta(days=1)),
        Text("+14155550101", "+12125550002", NOW - timedelta(days=1)),
    ]
    import_texts(store, tmp_path, texts)
    assert (
        store.scalar("SELECT count(*) FROM contacts WHERE number = '+14155550101'") == 2
    )
    done = remove_number(store, "+14155550101")
    assert done == {
        "number": "+14155550101",
        "drips_moved": 0,
        "drips_moved_to": None,
        "contacts_forgotten": 2,
    }
    assert store.scalar("SELECT count(*) FROM contacts") == 0
    assert store.scalar("SELECT count(*) FROM messages") == 2
    removed = find_number(store, "+14155550101")
    assert removed.removed and not removed.available


def test_removed_and_re_added_in_the_same_second(store):
    """SMSCTL_NOW is fixed, so add, remove and re-add share one second."""
    remove_number(store, "+14155550101")
    again = add_number(store, "+14155550101")
    assert not again.removed and again.available
    remove_number(store, "+14155550101")
    add_number(store, "+14155550101", available=False)
    spans = store.execute(
        "SELECT added_at, removed_at FROM memberships WHERE number = '+14155550101'"
    ).fetchall()
    assert spans == [(int(NOW.timestamp()), None)]
    assert [n.number for n in all_numbers(store)] == [
        "+14155550100",
        "+14155550101",
        "+14155550102",
    ]


def test_re_adding_later_opens_a_new_membership(store, monkeypatch):
    remove_number(store, "+14155550101")
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-10T09:00:00Z")
    again = add_number(store, "+14155550101")
    assert again.added_at == int(utc("2026-12-10T09:00:00Z").timestamp())
    spans = store.execute(
        "SELECT added_at, removed_at FROM memberships WHERE number = '+14155550101' "
        "ORDER BY added_at"
    ).fetchall()
    assert spans == [
        (int(NOW.timestamp()), int(NOW.timestamp())),
        (int(utc("2026-12-10T09:00:00Z").timestamp()), None),
    ]


def test_availability_of_a_removed_number_is_refused(store):
    remove_number(store, "+14155550102")
    with pytest.raises(RuleError, match="is not in the pool"):
        set_available(store, "+14155550102", True)
