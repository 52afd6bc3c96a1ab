"""Picking the send-from number, through the domain API."""

from __future__ import annotations

import random
import sqlite3
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsctl.clock import LocalDays
from smsctl.errors import InvalidPhoneError, NoSenderError, OptedOutError
from smsctl.importing import ImportOptions, import_files
from smsctl.numbers import add_number, init_database, remove_number, set_available
from smsctl.optouts import add_optout
from smsctl.picking import (
    forget_contact,
    pick_batch,
    pick_sender,
    pool_activity,
    split_window,
)
from smsctl.settings import load_settings, store_setting
from smsctl.store import open_store
from tests.twilio_export import Text, utc, write_export

DATA = Path(__file__).parent / "data" / "picking"
NOW = utc("2026-12-04T12:00:00Z")
MAIN = "+14165550100"  # Toronto: another country than every 415 recipient
SF_1, SF_2, SF_3 = "+14155550101", "+14155550102", "+14155550103"

# One pool number per tier, as seen from a 415 (San Francisco) recipient.
BY_TIER = {
    "area_code": "+14155550101",
    "overlay": "+16285550101",  # 628 overlays 415
    "state": "+13105550101",  # Los Angeles, CA
    "time_zone": "+12065550101",  # Seattle, WA: Pacific time
    "country": "+12125550101",  # New York: US, Eastern time
    "any": MAIN,  # Toronto, Canada
}


@pytest.fixture
def store(db_path):
    init_database(db_path, MAIN)
    opened = open_store(db_path)
    yield opened
    opened.close()


def add(store, *numbers: str, available: bool = True) -> None:
    for number in numbers:
        add_number(store, number, available=available)


def pick(store, to: str, **options):
    return pick_sender(store, to, NOW, **options)


def recipients(count: int, area_code: str = "415") -> list[str]:
    return [f"+1{area_code}555{2000 + index:04d}" for index in range(count)]


def import_export(store, path: Path) -> None:
    results = import_files(store, [path], ImportOptions())
    assert [r.exit_code for r in results] == [0], results


def import_texts(store, tmp_path: Path, texts: list[Text], batch: int = 0) -> None:
    import_export(store, write_export(tmp_path / f"texts_{batch}.csv", texts, batch))


def table_count(store, table: str) -> int:
    return store.scalar(f"SELECT count(*) FROM {table}")


def judged_texts(sender: str, delivered: int, blocked: int) -> list[Text]:
    """Texts three days old: they count toward health but not toward load."""
    when = NOW - timedelta(days=3)
    details = ["delivered"] * delivered + ["blocked_spam"] * blocked
    return [
        Text(sender, f"+1212555{index:04d}", when + timedelta(minutes=index), detail)
        for index, detail in enumerate(details)
    ]


# --- balance and stickiness -------------------------------------------------


def test_two_local_numbers_split_ten_new_contacts_five_and_five(store):
    add(store, SF_1, SF_2)
    picked = [pick(store, to).from_ for to in recipients(10)]
    assert picked == [SF_1, SF_2] * 5
    assert Counter(picked) == {SF_1: 5, SF_2: 5}


def test_number_with_more_imported_load_gets_fewer(store):
    add(store, SF_1, SF_2)
    import_export(store, DATA / "recent_load.csv")
    picked = [pick(store, to).from_ for to in recipients(10)]
    # SF_2 starts at load 3 (two delivered and one queued text in 24 h).
    assert picked == [SF_1] * 3 + [SF_1, SF_2] * 3 + [SF_1]
    assert Counter(picked) == {SF_1: 7, SF_2: 3}


def test_load_counts_pending_not_canceled_nor_older_than_a_day(store):
    add(store, SF_1, SF_2)
    import_export(store, DATA / "recent_load.csv")
    activity = pool_activity(store, NOW, load_settings(store))
    assert activity[SF_2][0] == 3


def test_unavailable_number_keeps_its_contacts_and_takes_no_new_ones(store):
    add(store, SF_1, SF_2)
    first, second, newcomer = recipients(3)
    assert pick(store, first).from_ == SF_1
    assert pick(store, second).from_ == SF_2
    set_available(store, SF_1, False)
    again = pick(store, first)
    assert (again.from_, again.reason) == (SF_1, "sticky")
    assert pick(store, newcomer).from_ == SF_2
    assert pick(store, recipients(4)[3]).from_ == SF_2


def test_pick_makes_the_contact_sticky_and_records_the_pick(store):
    add(store, SF_1, SF_2)
    to = recipients(1)[0]
    assert pick(store, to).reason == "area_code"
    assert store.one(
        "SELECT number, source FROM contacts WHERE contact = ?", (to,)
    ) == (
        SF_1,
        "pick",
    )
    assert store.execute("SELECT from_number, to_number FROM picks").fetchall() == [
        (SF_1, to)
    ]
    repeat = pick(store, to)
    assert (repeat.from_, repeat.reason) == (SF_1, "sticky")
    assert table_count(store, "picks") == 2


def test_removing_a_number_forgets_its_contacts(store):
    add(store, SF_1, SF_2)
    to = recipients(1)[0]
    assert pick(store, to).from_ == SF_1
    remove_number(store, SF_1)
    moved = pick(store, to)
    assert (moved.from_, moved.reason) == (SF_2, "area_code")
    add(store, SF_1)  # back, with no sticky contacts
    assert pick(store, to).from_ == SF_2


def test_reset_forgets_a_contact_sticky_number(store):
    add(store, SF_1, SF_2)
    to = recipients(1)[0]
    pick(store, to)
    assert forget_contact(store, to) == (to, SF_1)
    assert forget_contact(store, to) == (to, None)
    assert table_count(store, "contacts") == 0


# --- tiers ------------------------------------------------------------------


@pytest.mark.parametrize("tier", list(BY_TIER))
def test_closest_tier_with_a_number_wins(store, tier):
    closest = list(BY_TIER).index(tier)
    add(store, *[n for n in list(BY_TIER.values())[closest:] if n != MAIN])
    answer = pick(store, "+14155550199")
    assert (answer.from_, answer.reason) == (BY_TIER[tier], tier)


def test_overlay_then_state_then_zone_when_no_local_number_is_available(store):
    add(store, SF_1, available=False)
    add(store, BY_TIER["overlay"], BY_TIER["state"], BY_TIER["time_zone"])
    assert pick(store, "+14155550199").reason == "overlay"
    set_available(store, BY_TIER["overlay"], False)
    assert pick(store, "+14155550198").from_ == BY_TIER["state"]
    set_available(store, BY_TIER["state"], False)
    assert pick(store, "+14155550197").from_ == BY_TIER["time_zone"]


def test_recipient_abroad_gets_any_number(store):
    add(store, BY_TIER["country"])
    answer = pick(store, "+442071838750")
    assert (answer.from_, answer.reason) == (BY_TIER["country"], "any")  # lower


# --- inside a tier -----------------------------------------------------------


def test_equal_load_goes_to_the_healthier_number(store, tmp_path):
    add(store, SF_1, SF_2)
    import_texts(store, tmp_path, judged_texts(SF_1, 9, 1) + judged_texts(SF_2, 5, 0))
    assert pick(store, "+14155550199").from_ == SF_2


def test_no_health_ties_with_any_health_so_age_decides(store, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-01T00:00:00Z")
    add(store, SF_3)  # oldest, no texts yet
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-02T00:00:00Z")
    add(store, SF_1, SF_2)
    import_texts(store, tmp_path, judged_texts(SF_1, 9, 1) + judged_texts(SF_2, 5, 0))
    assert pick(store, "+14155550199").from_ == SF_3


def test_healthier_number_still_beats_an_older_one_without_health(
    store, tmp_path, monkeypatch
):
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-01T00:00:00Z")
    add(store, SF_1)  # oldest, health 90.0
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-02T00:00:00Z")
    add(store, SF_2)  # health 100.0
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-03T00:00:00Z")
    add(store, SF_3)  # newest, no health
    import_texts(store, tmp_path, judged_texts(SF_1, 9, 1) + judged_texts(SF_2, 5, 0))
    assert pick(store, "+14155550199").from_ == SF_2


def test_equal_load_and_health_goes_to_the_older_number(store, monkeypatch):
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-01T00:00:00Z")
    add(store, SF_2)
    monkeypatch.setenv("SMSCTL_NOW", "2026-11-02T00:00:00Z")
    add(store, SF_1)
    assert [pick(store, to).from_ for to in recipients(3)] == [SF_2, SF_1, SF_2]


# --- daily cap and health ------------------------------------------------------


def test_daily_cap_moves_new_contacts_on_and_sticky_ones_stay_over_cap(store):
    store_setting(store, "pick.daily_cap", "2")
    add(store, SF_1, SF_2)
    first, *others = recipients(5)
    picked = [pick(store, to) for to in [first, *others]]
    assert [p.from_ for p in picked] == [SF_1, SF_2, SF_1, SF_2, MAIN]
    assert picked[-1].reason == "any"
    again = pick(store, first)
    assert (again.from_, again.reason, again.over_cap) == (SF_1, "sticky", True)


def test_daily_cap_of_zero_means_none(store):
    store_setting(store, "pick.daily_cap", "0")
    add(store, SF_1)
    assert {pick(store, to).from_ for to in recipients(200)} == {SF_1}


def test_unhealthy_number_is_held_back_while_a_healthy_one_can_send(store, tmp_path):
    add(store, SF_1, SF_2)
    import_texts(store, tmp_path, judged_texts(SF_1, 13, 7))  # 65.0 over 20 texts
    assert [pick(store, to).from_ for to in recipients(3)] == [SF_2] * 3
    set_available(store, SF_2, False)
    far = pick(store, recipients(4)[3])
    assert (far.from_, far.reason, far.fallback) == (MAIN, "any", None)


def test_unhealthy_numbers_come_back_healthiest_first(store, tmp_path):
    add(store, SF_1, SF_2)
    set_available(store, MAIN, False)
    import_texts(
        store,
        tmp_path,
        judged_texts(SF_1, 10, 10) + judged_texts(SF_2, 13, 7),  # 50.0 and 65.0
    )
    answers = [pick(store, to) for to in recipients(3)]
    assert [(a.from_, a.fallback) for a in answers] == [(SF_2, "unhealthy")] * 3


def test_unhealthy_fallback_keeps_the_tier_order_then_health_before_load(
    store, tmp_path
):
    overlay = BY_TIER["overlay"]
    add(store, SF_1, SF_2, overlay)
    set_available(store, MAIN, False)
    import_texts(
        store,
        tmp_path,
        judged_texts(SF_1, 10, 10)  # 50.0
        + judged_texts(SF_2, 12, 8)  # 60.0
        + judged_texts(overlay, 13, 7),  # 65.0, but only an overlay
    )
    first = pick(store, "+14155550150")
    assert (first.from_, first.reason, first.fallback) == (
        SF_2,
        "area_code",
        "unhealthy",
    )
    answer = pick(store, "+14155550199", explain=True)  # SF_2 now has load 1
    assert answer.from_ == SF_2
    why = {s["number"]: s["why"] for s in answer.explain}
    assert why[SF_2] == (
        "unhealthy, but no healthy number can send; the healthiest unhealthy "
        "number of the closest tier"
    )
    assert why[SF_1] == "less healthy (50.0 vs 60.0)"
    assert why[overlay] == "not needed: a closer tier (area_code) has a number"


def test_few_judged_texts_never_make_a_number_unhealthy(store, tmp_path):
    add(store, SF_1)
    import_texts(store, tmp_path, judged_texts(SF_1, 1, 18))  # 5.3, but 19 texts
    answer = pick(store, "+14155550199")
    assert (answer.from_, answer.fallback) == (SF_1, None)


# --- refusals ----------------------------------------------------------------


def test_opted_out_recipient_is_refused_and_nothing_is_recorded(store):
    add(store, SF_1)
    add_optout(store, "+14155550199", NOW)
    with pytest.raises(OptedOutError) as refused:
        pick(store, "(415) 555-0199")
    assert refused.value.exit_code == 3
    assert table_count(store, "picks") == 0
    assert table_count(store, "contacts") == 0


def test_invalid_recipient_is_refused(store):
    with pytest.raises(InvalidPhoneError) as refused:
        pick(store, "555-0199")
    assert refused.value.exit_code == 2
    assert str(refused.value) == (
        "recipient '555-0199' is not a valid phone number; "
        "give it as +14155550123 or (415) 555-0123"
    )


def test_no_number_can_send_says_why(store):
    store_setting(store, "pick.daily_cap", "1")
    add(store, SF_1)
    set_available(store, MAIN, False)
    pick(store, "+14155550198")
    with pytest.raises(NoSenderError) as refused:
        pick(store, "+14155550199")
    assert refused.value.exit_code == 4
    assert str(refused.value) == (
        "no number in the pool can send to +14155550199 (1 unavailable, 1 at the "
        "daily cap of 1 texts); make one available with 'smsctl numbers available "
        "PHONE', add one with 'smsctl numbers add PHONE', or raise pick.daily_cap"
    )
    assert table_count(store, "picks") == 1


def test_dry_run_records_nothing(store):
    add(store, SF_1, SF_2)
    answers = [pick(store, "+14155550199", dry_run=True) for _ in range(2)]
    assert [a.from_ for a in answers] == [SF_1, SF_1]
    assert not answers[0].recorded
    assert table_count(store, "picks") == 0
    assert table_count(store, "contacts") == 0


# --- loads and imported texts ---------------------------------------------------


def test_pick_later_matched_by_an_imported_text_counts_once(store, tmp_path):
    add(store, SF_1, SF_2)
    to = recipients(1)[0]
    assert pick(store, to).from_ == SF_1
    assert pool_activity(store, NOW, load_settings(store))[SF_1][0] == 1
    import_texts(store, tmp_path, [Text(SF_1, to, NOW - timedelta(minutes=1))])
    assert store.scalar("SELECT count(*) FROM picks WHERE message_rowid IS NULL") == 0
    assert pool_activity(store, NOW, load_settings(store))[SF_1][0] == 1
    assert pick(store, recipients(2)[1]).from_ == SF_2


def test_unmatched_picks_older_than_a_day_leave_the_load(store, monkeypatch):
    add(store, SF_1, SF_2)
    monkeypatch.setenv("SMSCTL_NOW", "2026-12-03T11:00:00Z")
    pick_sender(store, recipients(1)[0], utc("2026-12-03T11:00:00Z"))
    assert pool_activity(store, NOW, load_settings(store)).get(SF_1, [0])[0] == 0


# --- quiet hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    "now, to, local_time, quiet",
    [
        ("2026-12-04T12:00:00Z", "+14155550199", "2026-12-04T04:00:00-08:00", True),
        ("2026-12-04T20:00:00Z", "+14155550199", "2026-12-04T12:00:00-08:00", False),
        ("2026-12-05T05:00:00Z", "+14155550199", "2026-12-04T21:00:00-08:00", True),
        ("2026-12-04T16:00:00Z", "+14155550199", "2026-12-04T08:00:00-08:00", False),
        ("2026-12-04T15:59:59Z", "+14155550199", "2026-12-04T07:59:59-08:00", True),
        # 208 spans Mountain and Pacific time: quiet while Pacific time is.
        ("2026-12-04T15:30:00Z", "+12085550199", "2026-12-04T08:30:00-07:00", True),
        ("2026-12-04T16:30:00Z", "+12085550199", "2026-12-04T09:30:00-07:00", False),
        ("2026-12-04T15:30:00Z", "+12125550199", "2026-12-04T10:30:00-05:00", False),
        ("2026-12-04T12:00:00Z", "+442071838750", None, None),
    ],
)
def test_quiet_hours_in_the_recipient_local_time(store, now, to, local_time, quiet):
    answer = pick_sender(store, to, utc(now), dry_run=True)
    assert (answer.recipient_local_time, answer.quiet_hours) == (local_time, quiet)


def test_quiet_hours_follow_the_setting(store):
    store_setting(store, "pick.quiet_hours", "03:00-05:00")
    answer = pick_sender(store, "+14155550199", NOW, dry_run=True)  # 04:00 there
    assert answer.quiet_hours is True
    store_setting(store, "pick.quiet_hours", "05:00-06:00")
    assert pick_sender(store, "+14155550199", NOW, dry_run=True).quiet_hours is False


# --- explain -------------------------------------------------------------------


def test_explain_lists_every_tier_and_why_each_number_lost(store):
    store_setting(store, "pick.daily_cap", "1")
    add(store, SF_1, SF_2)
    add(store, SF_3, available=False)
    add(store, BY_TIER["overlay"], BY_TIER["state"])
    remove_number(store, BY_TIER["state"])
    pick(store, "+14155550150")  # SF_1 reaches the cap
    pick(store, "+14155550151")  # and SF_2
    answer = pick(store, "+14155550199", explain=True)
    assert (answer.from_, answer.reason) == (BY_TIER["overlay"], "overlay")
    steps = [(s["tier"], s["number"], s["chosen"], s["why"]) for s in answer.explain]
    assert steps == [
        ("area_code", SF_1, False, "over the daily cap (1 of 1)"),
        ("area_code", SF_2, False, "over the daily cap (1 of 1)"),
        ("area_code", SF_3, False, "unavailable: it takes no new contacts"),
        (
            "overlay",
            BY_TIER["overlay"],
            True,
            "the best of the closest tier that has a number",
        ),
        ("state", BY_TIER["state"], False, "removed from the pool"),
        ("time_zone", None, False, "no number of the pool is in this tier"),
        ("country", None, False, "no number of the pool is in this tier"),
        ("any", MAIN, False, "not needed: a closer tier (overlay) has a number"),
    ]


def test_explain_says_why_the_runner_up_lost(store, tmp_path):
    add(store, SF_1, SF_2)
    import_texts(store, tmp_path, judged_texts(SF_2, 13, 7))
    pick(store, "+14155550150")
    answer = pick(store, "+14155550199", explain=True)
    by_number = {s["number"]: s for s in answer.explain}
    assert by_number[SF_1]["chosen"] and by_number[SF_1]["load"] == 1
    assert by_number[SF_2]["why"] == (
        "unhealthy (65.0 over 20 delivered or blocked texts, below 70); held back "
        "while a healthy number can send"
    )
    assert by_number[SF_2]["health"] == 65.0


def test_explain_of_a_sticky_pick(store):
    add(store, SF_1, SF_2)
    pick(store, "+14155550199")
    set_available(store, SF_1, False)
    answer = pick(store, "+14155550199", explain=True)
    first = answer.explain[0]
    assert (first["tier"], first["number"], first["chosen"]) == ("sticky", SF_1, True)
    assert first["why"] == (
        "the contact is sticky to it since 2026-12-04T12:00:00Z; unavailable, "
        "but it keeps its contacts"
    )
    rest = {s["why"] for s in answer.explain[1:] if s["number"]}
    assert rest == {f"not needed: the contact is sticky to {SF_1}"}


def test_explain_is_left_out_unless_asked(store):
    add(store, SF_1)
    assert "explain" not in pick(store, "+14155550199").as_dict()


# --- concurrency ------------------------------------------------------------------


def test_concurrent_picks_never_give_a_new_contact_two_numbers(store, db_path):
    add(store, SF_1, SF_2, SF_3)
    answers: list[str] = []

    def pick_in_own_connection():
        own = open_store(db_path)
        try:
            answers.append(pick_sender(own, "+14155550199", NOW).from_)
        finally:
            own.close()

    threads = [threading.Thread(target=pick_in_own_connection) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and len(set(answers)) == 1
    assert table_count(store, "contacts") == 1
    assert table_count(store, "picks") == 8


# --- batch ------------------------------------------------------------------------


def test_batch_rotates_like_single_picks_and_a_bad_row_fails_alone(store):
    add(store, SF_1, SF_2)
    add_optout(store, "+14155552001", NOW)
    rows = list(
        pick_batch(
            store,
            [
                "+14155552000",
                "+14155552001",
                "not a phone",
                "+14155552002",
                "(415) 555-2000",
                "+14155552003",
            ],
            NOW,
            chunk_rows=2,
        )
    )
    assert [(r.to, r.from_, r.reason) for r in rows] == [
        ("+14155552000", SF_1, "area_code"),
        ("+14155552001", None, None),
        ("not a phone", None, None),
        ("+14155552002", SF_2, "area_code"),
        ("+14155552000", SF_1, "sticky"),
        ("+14155552003", SF_2, "area_code"),
    ]
    assert rows[1].error == "opted out of texts from the pool"
    assert rows[2].error.startswith("invalid: recipient 'not a phone' is not a valid")
    assert table_count(store, "picks") == 4
    assert table_count(store, "contacts") == 3


def test_batch_reports_no_sender_per_row(store):
    store_setting(store, "pick.daily_cap", "1")
    add(store, SF_1)
    set_available(store, MAIN, False)
    rows = list(pick_batch(store, recipients(2), NOW))
    assert rows[0].from_ == SF_1
    assert rows[1].error.startswith("no sender: no number in the pool can send to")


def test_batch_dry_run_records_nothing_but_still_rotates(store):
    add(store, SF_1, SF_2)
    rows = list(pick_batch(store, recipients(4) + recipients(1), NOW, dry_run=True))
    assert [r.from_ for r in rows] == [SF_1, SF_2, SF_1, SF_2, SF_1]
    assert rows[-1].reason == "sticky"
    assert table_count(store, "picks") == 0


def test_batch_keeps_contacts_sticky_across_the_slices_stored_meanwhile(store):
    add(store, SF_1, SF_2)
    store_setting(store, "pick.daily_cap", "0")
    first = recipients(5_500)
    # The repeats come after the first 5,000 picks, which are stored while
    # the rest of the chunk is picked.
    rows = list(pick_batch(store, first + first[:500], NOW))
    assert len(rows) == 6_000
    assert [r.error for r in rows].count(None) == 6_000
    assert [r.from_ for r in rows[5_500:]] == [r.from_ for r in rows[:500]]
    assert {r.reason for r in rows[5_500:]} == {"sticky"}
    assert Counter(r.from_ for r in rows[:5_500]) == {SF_1: 2_750, SF_2: 2_750}
    stored = store.execute(
        "SELECT to_number, from_number, count(*) FROM picks GROUP BY 1, 2"
    ).fetchall()
    assert len(stored) == 5_500
    assert {(to, sender) for to, sender, _ in stored} == {(r.to, r.from_) for r in rows}
    assert Counter(n for _, _, n in stored) == {1: 5_000, 2: 500}
    assert table_count(store, "contacts") == 5_500


def test_batch_that_cannot_record_keeps_the_chunks_before_and_undoes_its_own(store):
    add(store, SF_1, SF_2)
    failing = recipients(7)[4]
    store.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON picks "
        f"WHEN NEW.to_number = '{failing}' BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    before = sys.getswitchinterval()
    shown = []
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        for row in pick_batch(store, recipients(7), NOW, chunk_rows=3):
            shown.append(row.to)
    assert shown == recipients(3)
    assert_left_whole(store, recipients(3), before)
    # The connection is usable again.
    assert pick(store, recipients(7)[6]).reason == "area_code"


def test_batch_whose_transaction_sqlite_ended_records_nothing_more(store):
    add(store, SF_1, SF_2)
    store_setting(store, "pick.daily_cap", "0")
    # As on a full disk, SQLite ends the whole transaction itself, while the
    # later slices of the same chunk are still to be stored.
    store.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON picks "
        f"WHEN NEW.to_number = '{recipients(11)[10]}' "
        "BEGIN SELECT RAISE(ROLLBACK, 'full'); END"
    )
    before = sys.getswitchinterval()
    with pytest.raises(sqlite3.IntegrityError, match="full"):
        list(pick_batch(store, recipients(12_000), NOW))
    assert_left_whole(store, [], before)


def test_batch_closed_early_leaves_whole_chunks_recorded(store):
    add(store, SF_1, SF_2)
    before = sys.getswitchinterval()
    batch = pick_batch(store, recipients(9), NOW, chunk_rows=2)
    assert next(batch).to == recipients(1)[0]
    batch.close()
    # The chunk after the one handed on was already picked and commits.
    assert_left_whole(store, recipients(4), before)


def test_batch_sees_a_number_added_while_it_runs(store, db_path):
    add(store, SF_1)
    batch = pick_batch(store, recipients(6), NOW, chunk_rows=2)
    assert next(batch).from_ == SF_1
    # Meanwhile another process adds a number and a pick makes a contact of
    # the batch's third chunk sticky to it.
    other = open_store(db_path)
    add_number(other, SF_2)
    assert pick_sender(other, recipients(6)[5], NOW).from_ == SF_2
    other.close()
    assert [(r.to, r.from_, r.reason) for r in batch] == [
        (recipients(6)[1], SF_1, "area_code"),
        (recipients(6)[2], SF_1, "area_code"),
        (recipients(6)[3], SF_1, "area_code"),
        (recipients(6)[4], SF_2, "area_code"),
        (recipients(6)[5], SF_2, "sticky"),
    ]


def test_batch_stops_using_a_number_removed_while_it_runs(store, db_path):
    add(store, SF_1, SF_2)
    r = recipients(5)
    batch = pick_batch(store, [*r, r[1]], NOW, chunk_rows=2)
    assert next(batch).from_ == SF_1
    other = open_store(db_path)
    remove_number(other, SF_2)
    other.close()
    assert [(row.to, row.from_, row.reason) for row in batch] == [
        (r[1], SF_2, "area_code"),
        (r[2], SF_1, "area_code"),
        (r[3], SF_2, "area_code"),
        # Picked after the removal, which also forgot the contacts of SF_2.
        (r[4], SF_1, "area_code"),
        (r[1], SF_1, "area_code"),
    ]


def assert_left_whole(store, recorded: list[str], switch_interval: float) -> None:
    """Only ``recorded`` were picked, each made sticky; no transaction is
    left open, and Python's switch interval is back."""
    picked = [row[0] for row in store.execute("SELECT to_number FROM picks")]
    assert sorted(picked) == recorded
    assert table_count(store, "contacts") == len(recorded)
    assert not store.conn.in_transaction
    assert sys.getswitchinterval() == switch_interval


# --- the pool's figures, read through index ranges only --------------------------


def captured_statements(store, action) -> list[str]:
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        action()
    finally:
        store.conn.set_trace_callback(None)
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith(("SELECT", "INSERT", "WITH"))
    ]


@pytest.mark.parametrize("analyzed", [False, True])
def test_picking_never_scans_the_messages_table(store, tmp_path, analyzed):
    add(store, SF_1, SF_2, BY_TIER["overlay"])
    import_export(store, DATA / "recent_load.csv")
    import_texts(store, tmp_path, judged_texts(SF_1, 30, 3))
    if analyzed:
        store.execute("ANALYZE")
    statements = captured_statements(
        store,
        lambda: (
            pick(store, "+14155550199", explain=True),
            pick(store, "+14155550198", dry_run=True),
            list(pick_batch(store, recipients(3) + ["+14155550199"], NOW)),
        ),
    )
    assert any("messages" in s for s in statements)
    for statement in statements:
        plan = store.execute("EXPLAIN QUERY PLAN " + statement).fetchall()
        scans = [row[3] for row in plan if row[3].startswith("SCAN messages")]
        assert not scans, (statement, plan)


def insert_texts(store, texts: list[tuple[str, int, str]], zone_name: str) -> None:
    """Outbound texts (sender, sent_at, detail) straight into messages."""
    day_of = LocalDays(zone_name)
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO messages (provider, message_id, from_number, to_number, "
            "outbound, status, error_code, detail, rank, sent_at, time_source, "
            "local_day) VALUES ('twilio', ?, ?, '+12125550000', 1, 's', '', ?, 2, ?, "
            "'sent', ?)",
            [
                (f"m{index}", sender, detail, sent_at, day_of(sent_at))
                for index, (sender, sent_at, detail) in enumerate(texts)
            ],
        )


@pytest.mark.parametrize("seed", range(6))
def test_load_and_health_match_a_plain_count_across_time_zone_changes(store, seed):
    """Tallied days plus edges equal counting every text, whatever the moment."""
    rng = random.Random(seed)
    zone_name = ["America/Los_Angeles", "UTC", "Asia/Kolkata"][seed % 3]
    store_setting(store, "billing.timezone", zone_name)
    add(store, SF_1, SF_2)
    # Around the end of daylight saving time in the US (2026-11-01).
    middle = int(utc("2026-11-01T09:00:00Z").timestamp())
    details = ["delivered", "blocked_spam", "canceled", "pending", "failed"]
    texts = [
        (
            rng.choice([SF_1, SF_2]),
            middle + rng.randrange(-20 * 86400, 20 * 86400),
            rng.choice(details),
        )
        for _ in range(3000)
    ]
    insert_texts(store, texts, zone_name)
    settings = load_settings(store)
    for _ in range(25):
        now_s = middle + rng.randrange(-5 * 86400, 5 * 86400)
        if rng.random() < 0.3:
            now_s -= now_s % 3600  # on the hour, often a local midnight
        now = datetime.fromtimestamp(now_s, UTC)
        expected = {}
        for number in (SF_1, SF_2):
            mine = [(t, d) for n, t, d in texts if n == number]
            load = sum(now_s - 86400 < t <= now_s and d != "canceled" for t, d in mine)
            judged = [d for t, d in mine if now_s - 15 * 86400 < t <= now_s]
            expected[number] = [
                load,
                judged.count("delivered"),
                judged.count("blocked_spam"),
            ]
        found = pool_activity(store, now, settings)
        assert {n: found.get(n, [0, 0, 0]) for n in (SF_1, SF_2)} == expected, now


@pytest.mark.parametrize(
    "start, end, first_day, last_day, edges",
    [
        # Noon to noon, UTC: the first half day is read, today's tally trimmed.
        (
            "2026-12-03T12:00:00Z",
            "2026-12-04T12:00:00Z",
            "2026-12-04",
            "2026-12-04",
            [
                (1, "2026-12-03T12:00:00Z", "2026-12-03T23:59:59Z"),
                (-1, "2026-12-04T12:00:00Z", "2026-12-04T23:59:59Z"),
            ],
        ),
        # Early in the day: the sliver before the window is taken away.
        (
            "2026-11-19T03:00:00Z",
            "2026-12-04T03:00:00Z",
            "2026-11-19",
            "2026-12-04",
            [
                (-1, "2026-11-18T23:59:59Z", "2026-11-19T03:00:00Z"),
                (-1, "2026-12-04T03:00:00Z", "2026-12-04T23:59:59Z"),
            ],
        ),
        # A few hours of one day: read straight from messages.
        (
            "2026-12-04T10:00:00Z",
            "2026-12-04T12:00:00Z",
            None,
            None,
            [(1, "2026-12-04T10:00:00Z", "2026-12-04T12:00:00Z")],
        ),
        # Most of one day: its tally, less the hours around the window.
        (
            "2026-12-04T01:00:00Z",
            "2026-12-04T23:00:00Z",
            "2026-12-04",
            "2026-12-04",
            [
                (-1, "2026-12-03T23:59:59Z", "2026-12-04T01:00:00Z"),
                (-1, "2026-12-04T23:00:00Z", "2026-12-04T23:59:59Z"),
            ],
        ),
    ],
)
def test_split_window(start, end, first_day, last_day, edges):
    def seconds(text):
        return int(utc(text).timestamp())

    window = split_window(seconds(start), seconds(end), "UTC")
    assert (window.first_day, window.last_day) == (first_day, last_day)
    assert list(window.edges) == [(s, seconds(a), seconds(b)) for s, a, b in edges]
