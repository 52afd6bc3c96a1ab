"""Choosing the send-from number for a recipient, one at a time or in a batch.

The rules, in DESIGN.md's order: the recipient is normalised and refused when
opted out; a contact keeps its sticky number while that number is in the
pool; otherwise the available numbers under the daily cap that are not
unhealthy compete tier by tier (same area code, overlay, state, zone group,
country, any), and inside the first non-empty tier the lowest load wins, then
higher health, then the older number, then the lower number. Unhealthy
numbers come back in only when no other number can send.

A recorded pick writes a ``picks`` row (which counts toward the number's load
until an imported text uses it up) and makes the contact sticky, in the same
write transaction as the choice, so two concurrent picks for one new contact
can never give it two numbers.

Picking reads the pool's figures with a handful of grouped index-range
queries and never scans the messages table; it imports neither rich,
sqlite-utils, dateutil nor phonenumbers for an ordinary +1 recipient.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .clock import DAY, epoch_of, iso_utc, local_midnight, zone
from .errors import InvalidPhoneError, NoSenderError, OptedOutError, UsageError
from .figures import health_percent, health_window, is_unhealthy
from .optouts import is_opted_out, opted_out_in_json
from .outcomes import BLOCKED_SPAM, CANCELED, DELIVERED
from .phones import NumberFacts, normalize_phone, normalize_phones, number_facts
from .settings import Settings, load_settings
from .store import Store

if TYPE_CHECKING:  # imported where used: a cold single pick does without
    from concurrent.futures import Executor, Future

STICKY = "sticky"
TIERS = ("area_code", "overlay", "state", "time_zone", "country", "any")
UNHEALTHY_FALLBACK = "unhealthy"
BATCH_COLUMNS = ("to", "from", "reason", "fallback", "over_cap", "quiet_hours", "error")
BATCH_CHUNK_ROWS = 20_000
# The longest line a recipients file may hold, in bytes.
RECIPIENT_LINE_LIMIT = 4 << 20
# Picks stored together while the next ones are picked (see pick_batch).
RECORD_SLICE_ROWS = 5_000
# How often Python may hand its lock between threads during a batch, in
# seconds: the helper thread needs it back after each SQLite call.
BATCH_SWITCH_INTERVAL = 0.0005

# Every query below walks the numbers of the pool and, for each, one index
# range (tallies' primary key, messages_by_sender or picks_load), grouping by
# number in index order so that no temporary sort is needed.

# Load, delivered and blocked of each pool number over whole local days
# (billing.timezone), from the tallies.
TALLIED_DAYS = """
SELECT numbers.number,
    sum(CASE WHEN tallies.day >= ? AND tallies.day <= ? AND tallies.detail <> ?
        THEN tallies.n ELSE 0 END),
    sum(CASE WHEN tallies.day >= ? AND tallies.day <= ? AND tallies.detail = ?
        THEN tallies.n ELSE 0 END),
    sum(CASE WHEN tallies.day >= ? AND tallies.day <= ? AND tallies.detail = ?
        THEN tallies.n ELSE 0 END)
FROM numbers CROSS JOIN tallies
    ON tallies.number = numbers.number AND tallies.day >= ? AND tallies.day <= ?
WHERE numbers.removed_at IS NULL
GROUP BY numbers.number
"""

# The same over texts dated in (after, up_to], each count times a sign: +1
# or -1 to add or take away an edge, 0 where the edge is not the figure's.
DATED_TEXTS = """
SELECT numbers.number,
    ? * sum(messages.detail <> ?), ? * sum(messages.detail = ?),
    ? * sum(messages.detail = ?)
FROM numbers CROSS JOIN messages
    ON messages.from_number = numbers.number
    AND messages.sent_at > ? AND messages.sent_at <= ? AND messages.outbound = 1
WHERE numbers.removed_at IS NULL
GROUP BY numbers.number
"""

UNMATCHED_PICKS = """
SELECT numbers.number, count(*), 0, 0
FROM numbers CROSS JOIN picks
    ON picks.from_number = numbers.number AND picks.message_rowid IS NULL
    AND picks.picked_at > ? AND picks.picked_at <= ?
WHERE numbers.removed_at IS NULL
GROUP BY numbers.number
"""

NO_DAYS = ("9999-12-31", "0000-01-01")

STICKY_NUMBER = """
SELECT contacts.number, contacts.since FROM contacts
JOIN numbers ON numbers.number = contacts.number AND numbers.removed_at IS NULL
WHERE contacts.contact = ?
"""

# The numbers some contacts (a JSON array) are sticky to, removed or not, as
# one JSON object: the batch keeps those of the pool itself, cheaper than a
# join per contact, and one object costs less to fetch than a row each.
STICKY_AMONG = """
SELECT json_group_object(contacts.contact, contacts.number)
FROM json_each(?) AS candidate
JOIN contacts ON contacts.contact = candidate.value
"""

# What a batch compares between chunks to tell whether the pool changed.
POOL_STATE = "SELECT number, available, removed_at FROM numbers ORDER BY number"

# Picks made at one time, given as a JSON array of "FROM TO" texts: one
# statement for a whole batch, cheaper than one per pick.
INSERT_PICKS = """
INSERT INTO picks (from_number, to_number, picked_at)
SELECT substr(value, 1, instr(value, ' ') - 1), substr(value, instr(value, ' ') + 1),
    ?2
FROM json_each(?1)
"""

# A contact sticky to a number no longer in the pool may take a new one;
# a contact sticky to a pool number never changes here.
MAKE_STICKY = """
INSERT INTO contacts (contact, number, since, source) VALUES (?, ?, ?, 'pick')
ON CONFLICT (contact) DO UPDATE SET
    number = excluded.number, since = excluded.since, source = 'pick',
    import_id = NULL
WHERE NOT EXISTS (
    SELECT 1 FROM numbers
    WHERE numbers.number = contacts.number AND numbers.removed_at IS NULL
)
"""


@dataclass
class Sender:
    """A number of the pool as picking sees it at one moment."""

    number: str
    available: bool
    removed: bool
    added_at: int
    facts: NumberFacts
    load: int = 0
    health: Decimal | None = None
    judged: int = 0
    unhealthy: bool = False


@dataclass(frozen=True)
class PickResult:
    """The answer to one pick, with DESIGN's JSON field names in ``as_dict``."""

    to: str
    from_: str
    reason: str
    fallback: str | None
    over_cap: bool
    recipient_local_time: str | None
    quiet_hours: bool | None
    recorded: bool
    explain: list[dict] | None = None

    def as_dict(self) -> dict:
        answer = {
            "to": self.to,
            "from": self.from_,
            "reason": self.reason,
            "fallback": self.fallback,
            "over_cap": self.over_cap,
            "recipient_local_time": self.recipient_local_time,
            "quiet_hours": self.quiet_hours,
        }
        if self.explain is not None:
            answer["explain"] = self.explain
        return answer


class BatchRow(NamedTuple):
    """One row of a batch pick, its values in the order of BATCH_COLUMNS: the
    pick, or the recipient as given and the one-line reason it failed."""

    to: str
    from_: str | None
    reason: str | None
    fallback: str | None
    over_cap: bool | None
    quiet_hours: bool | None
    error: str | None

    @classmethod
    def failed(cls, to: str, error: str) -> BatchRow:
        return cls(to, None, None, None, None, None, error)


class Place(NamedTuple):
    """Where a recipient is, and its local time and quiet hours at ``now``."""

    facts: NumberFacts
    local_time: str | None
    quiet_hours: bool | None


class Choice(NamedTuple):
    sender: Sender
    reason: str
    fallback: str | None
    over_cap: bool


@dataclass(frozen=True)
class QuietHours:
    """The span ``pick.quiet_hours``: start included, end excluded, may wrap."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        start, end = text.split("-")
        return cls(time.fromisoformat(start), time.fromisoformat(end))

    def holds(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass
class PoolSnapshot:
    """Every number ever in the pool with its load, health and standing at
    ``now``, and the settings that picking applies to them."""

    now: datetime
    settings: Settings
    senders: dict[str, Sender]
    daily_cap: int
    quiet: QuietHours
    _tiers: dict = field(default_factory=dict)
    _places: dict = field(default_factory=dict)

    @classmethod
    def read(cls, store: Store, now: datetime, settings: Settings) -> PoolSnapshot:
        senders = {
            number: Sender(
                number,
                bool(available),
                removed_at is not None,
                added_at,
                number_facts(number),
            )
            for number, available, added_at, removed_at in store.execute(
                "SELECT number, available, added_at, removed_at FROM numbers"
            )
        }
        activity = pool_activity(store, now, settings)
        for number, (load, delivered, blocked) in activity.items():
            sender = senders[number]
            sender.load = load
            sender.health = health_percent(delivered, blocked)
            sender.judged = delivered + blocked
            sender.unhealthy = is_unhealthy(sender.health, sender.judged, settings)
        return cls(
            now,
            settings,
            senders,
            settings["pick.daily_cap"],
            QuietHours.parse(settings["pick.quiet_hours"]),
        )

    def capped(self, sender: Sender) -> bool:
        return self.daily_cap > 0 and sender.load >= self.daily_cap

    def tiers_for(self, recipient: NumberFacts) -> list[list[Sender]]:
        """The available pool numbers in each tier of TIERS, for this recipient."""
        key = _location_key(recipient)
        tiers = self._tiers.get(key)
        if tiers is None:
            tiers = [[] for _ in TIERS]
            for sender in self.senders.values():
                if sender.available and not sender.removed:
                    tiers[tier_of(sender.facts, recipient)].append(sender)
            self._tiers[key] = tiers
        return tiers

    def place_of(self, to: str) -> Place:
        """Where ``to`` is, its local time (ISO, first zone of its area code)
        and whether any zone of its area code is in quiet hours; None for both
        when its zone is unknown. Worked out once per area code."""
        key = to[:5] if to.startswith("+1") and len(to) == 12 else to
        found = self._places.get(key)
        if found is None:
            facts = number_facts(to)
            zones = facts.area_code.time_zones if facts.area_code else ()
            if not zones:
                found = Place(facts, None, None)
            else:
                local = [self.now.astimezone(zone(name)) for name in zones]
                quiet = any(self.quiet.holds(moment.time()) for moment in local)
                found = Place(facts, local[0].isoformat(timespec="seconds"), quiet)
            self._places[key] = found
        return found

    def choose(self, to: str, recipient: NumberFacts, sticky: str | None) -> Choice:
        """The number for ``to`` (whose facts are ``recipient``), or
        NoSenderError saying why none can send."""
        if sticky is not None:
            sender, over_cap = self.keep_sticky(sticky)
            return Choice(sender, STICKY, None, over_cap)
        tiers = self.tiers_for(recipient)
        for tier, members in zip(TIERS, tiers):
            open_ = [s for s in members if not s.unhealthy and not self.capped(s)]
            if open_:
                return Choice(best_sender(open_), tier, None, False)
        for tier, members in zip(TIERS, tiers):
            open_ = [s for s in members if not self.capped(s)]
            if open_:
                return Choice(healthiest_sender(open_), tier, UNHEALTHY_FALLBACK, False)
        raise NoSenderError(self.why_none_can_send(to))

    def why_none_can_send(self, to: str) -> str:
        in_pool = [s for s in self.senders.values() if not s.removed]
        unavailable = sum(not s.available for s in in_pool)
        capped = sum(s.available and self.capped(s) for s in in_pool)
        parts = []
        if unavailable:
            parts.append(f"{unavailable} unavailable")
        if capped:
            parts.append(f"{capped} at the daily cap of {self.daily_cap} texts")
        return (
            f"no number in the pool can send to {to} ({', '.join(parts)}); make one "
            "available with 'smsctl numbers available PHONE', add one with "
            "'smsctl numbers add PHONE', or raise pick.daily_cap"
        )

    def keep_sticky(self, number: str) -> tuple[Sender, bool]:
        """A sticky contact keeps its ``number``, over the daily cap too: the
        number, and whether it is over the cap."""
        sender = self.senders[number]
        return sender, self.capped(sender)

    def take(self, sender: Sender) -> None:
        """Count a pick of ``sender`` in its load."""
        sender.load += 1


def _location_key(recipient: NumberFacts):
    if recipient.area_code is not None:
        return recipient.area_code.area_code
    return (recipient.country,)


def tier_of(sender: NumberFacts, recipient: NumberFacts) -> int:
    """The index in TIERS of the closest tier ``sender`` shares with ``recipient``."""
    ours, theirs = sender.area_code, recipient.area_code
    if ours is not None and theirs is not None:
        if ours.area_code == theirs.area_code:
            return 0
        if set(ours.overlays) & set(theirs.overlays):
            return 1
        if set(ours.states) & set(theirs.states):
            return 2
        if set(ours.zone_groups) & set(theirs.zone_groups):
            return 3
    if sender.country is not None and sender.country == recipient.country:
        return 4
    return 5


def best_sender(candidates: list[Sender]) -> Sender:
    """Inside a tier: lowest load, then higher health, then older, then lower.

    A number with no health yet ties with any health, so health only sets
    aside a number that another number of the same load is healthier than.
    """
    lowest = min(s.load for s in candidates)
    tied = [s for s in candidates if s.load == lowest]
    known = [s.health for s in tied if s.health is not None]
    if len(tied) > 1 and known:
        top = max(known)
        tied = [s for s in tied if s.health is None or s.health == top]
    return min(tied, key=lambda s: (s.added_at, s.number))


def healthiest_sender(candidates: list[Sender]) -> Sender:
    """Among unhealthy numbers (all have a health): healthiest, then as usual."""
    return min(candidates, key=lambda s: (-s.health, s.load, s.added_at, s.number))


@dataclass(frozen=True)
class Window:
    """Texts dated in (start, end], split so that few are read one by one:
    the whole local days first_day..last_day from the tallies, plus each
    edge ``(sign, after, up_to)``: texts dated in (after, up_to], added or
    taken away. No whole day: first_day is None and one edge covers all."""

    first_day: str | None
    last_day: str | None
    edges: tuple[tuple[int, int, int], ...]


def split_window(start: int, end: int, zone_name: str) -> Window:
    """(start, end] as whole days of ``zone_name`` and edge corrections.

    At the start, whichever part of the first day is shorter is read from
    messages: the part before the window (taken away from that day's tally)
    or the part inside it (added, the day left out). At the end the texts
    dated after ``end`` on its day, usually none, are taken away.
    """
    local = zone(zone_name)
    first = datetime.fromtimestamp(start + 1, local).date()
    last = datetime.fromtimestamp(end, local).date()
    first_midnight = local_midnight(first, zone_name)
    next_midnight = local_midnight(first + DAY, zone_name)
    end_edge = (-1, end, local_midnight(last + DAY, zone_name) - 1)
    before = (-1, first_midnight - 1, start)
    if first == last:
        outside = (start + 1 - first_midnight) + (next_midnight - 1 - end)
        if outside < end - start:
            return Window(first.isoformat(), last.isoformat(), (before, end_edge))
        return Window(None, None, ((1, start, end),))
    if start + 1 - first_midnight <= next_midnight - start - 1:
        start_edge = before
    else:
        start_edge = (1, start, next_midnight - 1)
        first += DAY
    return Window(first.isoformat(), last.isoformat(), (start_edge, end_edge))


def pool_activity(
    store: Store, now: datetime, settings: Settings
) -> dict[str, list[int]]:
    """``[load, delivered, blocked]`` of every pool number at ``now``.

    Load: outbound texts dated in (now - 24 h, now], canceled ones excepted,
    plus picks made in that span and not yet matched to an imported text.
    Delivered and blocked: outbound texts over the health window. Two
    queries, whatever the size of the pool or of the messages table.
    """
    health_from, end = health_window(store, now, settings)
    day_ago = end - 86400
    zone_name = settings["billing.timezone"]
    load_span = split_window(day_ago, end, zone_name)
    health_span = split_window(health_from, end, zone_name)
    activity: dict[str, list[int]] = {}

    def add(rows) -> None:
        for number, *figures in rows:
            found = activity.setdefault(number, [0, 0, 0])
            for index, value in enumerate(figures):
                found[index] += value

    days = [w for w in (load_span, health_span) if w.first_day is not None]
    if days:
        bounds = []
        for span, detail in (
            (load_span, CANCELED),
            (health_span, DELIVERED),
            (health_span, BLOCKED_SPAM),
        ):
            first_last = (span.first_day, span.last_day) if span in days else NO_DAYS
            bounds += [*first_last, detail]
        covered = [min(w.first_day for w in days), max(w.last_day for w in days)]
        add(store.execute(TALLIED_DAYS, bounds + covered))
    signs: dict[tuple[int, int], list[int]] = {}
    for figure, span in enumerate((load_span, health_span)):
        for sign, after, up_to in span.edges:
            signs.setdefault((after, up_to), [0, 0])[figure] = sign
    parameters = [
        (load, CANCELED, health, DELIVERED, health, BLOCKED_SPAM, *edge)
        for edge, (load, health) in signs.items()
    ]
    add(
        store.execute(
            " UNION ALL ".join([DATED_TEXTS] * len(parameters) + [UNMATCHED_PICKS]),
            [value for row in parameters for value in row] + [day_ago, end],
        )
    )
    return activity


def sticky_number(store: Store, contact: str) -> tuple[str, int] | None:
    """The pool number ``contact`` is sticky to and since when, if any."""
    return store.one(STICKY_NUMBER, (contact,))


def pick_sender(
    store: Store,
    to_phone: str,
    now: datetime,
    dry_run: bool = False,
    explain: bool = False,
) -> PickResult:
    """Pick the number to text ``to_phone`` from, and record the pick.

    Raises InvalidPhoneError for a number that cannot be read, OptedOutError
    for an opted-out recipient and NoSenderError when no number can send;
    none of them records anything. Unless ``dry_run``, the pick is recorded
    and the contact made sticky in one write transaction that also holds the
    choice, so concurrent picks see each other. With ``explain``, the answer
    lists every tier and number and why each was chosen or passed over.
    """
    to = normalize_phone(to_phone, "recipient")
    settings = load_settings(store)
    with nullcontext() if dry_run else store.transaction():
        if is_opted_out(store, to):
            raise OptedOutError(
                f"{to} opted out of texts from the pool; nothing picked"
            )
        snapshot = PoolSnapshot.read(store, now, settings)
        place = snapshot.place_of(to)
        recipient = place.facts
        sticky = sticky_number(store, to)
        choice = snapshot.choose(to, recipient, sticky[0] if sticky else None)
        steps = explain_choice(snapshot, recipient, sticky, choice) if explain else None
        number = choice.sender.number
        if not dry_run:
            _record(
                store,
                epoch_of(now),
                _pairs_json([(number, to)]),
                [] if sticky else [(to, number, epoch_of(now))],
            )
        snapshot.take(choice.sender)
        return PickResult(
            to,
            number,
            choice.reason,
            choice.fallback,
            choice.over_cap,
            place.local_time,
            place.quiet_hours,
            recorded=not dry_run,
            explain=steps,
        )


def _nothing() -> None:
    pass


class TransactionEndedError(sqlite3.OperationalError):
    """A batch's chunk found its write transaction ended by an earlier error."""


def _commit_after(store: Store, recording: list[Future]) -> None:
    """Commit the open transaction once every part of it is recorded, or roll
    it back and raise the first part's error."""
    with store.lock, store.ending_transaction():
        for part in recording:
            part.result()


def _record(
    store: Store, picked_at: int, pairs_json: str, new_contacts: list[tuple]
) -> None:
    """Record picks made at ``picked_at`` (given by ``_pairs_json``), and
    make ``new_contacts`` (contact, number, since) sticky, inside the write
    transaction a batch's chunk holds open."""
    with store.lock:
        if not store.conn.in_transaction:
            # SQLite ends a transaction itself on some errors (a full disk):
            # what follows it must not be written outside one.
            raise TransactionEndedError("the chunk's write transaction ended early")
        store.conn.execute(INSERT_PICKS, (pairs_json, picked_at))
        if new_contacts:
            store.conn.executemany(MAKE_STICKY, new_contacts)


def _pairs_json(picks: list[tuple[str, str]]) -> str:
    """Picks (sender, recipient) as INSERT_PICKS takes them."""
    # In index order, a batch's picks touch far fewer pages of picks' indexes.
    return json.dumps([f"{sender} {recipient}" for sender, recipient in sorted(picks)])


def forget_contact(store: Store, phone: str) -> tuple[str, str | None]:
    """Forget which number ``phone`` is sticky to; returns the contact as E.164
    and the number it was sticky to (None when it had none)."""
    contact = normalize_phone(phone, "contact")
    with store.transaction() as conn:
        row = conn.execute(
            "DELETE FROM contacts WHERE contact = ? RETURNING number", (contact,)
        ).fetchone()
    return contact, None if row is None else row[0]


@contextmanager
def recipients_in(path: Path, column: str = "to") -> Iterator[Iterator[str]]:
    """The cells of ``column`` in the CSV file at ``path``, row by row.

    A missing file, an unreadable one or a header without ``column`` is a
    UsageError raised before any row is read. Undecodable bytes become
    replacement characters, so such a row fails alone as an invalid number.
    A pipe is read like a file, so that a script may pass ``<(...)``. A line
    longer than RECIPIENT_LINE_LIMIT bytes (or a device such as /dev/zero)
    is refused before it is held whole.
    """
    try:
        raw = io.FileIO(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    handle = io.TextIOWrapper(
        io.BufferedReader(LineLimitedReader(raw, RECIPIENT_LINE_LIMIT)),
        encoding="utf-8-sig",
        errors="replace",
        newline="",
    )
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (OSError, csv.Error) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
        names = [name.strip() for name in header or []]
        if column not in names:
            shown = ", ".join(repr(name) for name in names) or "none"
            raise UsageError(
                f"{path} has no column {column!r} (its columns: {shown}); "
                "name the recipients' column with --column NAME"
            )
        yield _cells(path, reader, names.index(column))


class LineTooLongError(csv.Error):
    """A line of a text file is longer than its reader allows."""


class LineLimitedReader(io.RawIOBase):
    """The bytes of ``raw``, refused (LineTooLongError) once ``limit`` of them
    follow one another without a line end.

    Checked a block at a time, below the text layer, so that reading lines
    stays as fast as reading the file itself.
    """

    def __init__(self, raw, limit: int):
        self.raw = raw
        self.limit = limit
        self.run = 0  # bytes read since the last line end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        if count:
            block = bytes(memoryview(buffer)[:count])
            end = max(block.rfind(b"\n"), block.rfind(b"\r"))
            self.run = self.run + count if end < 0 else count - end - 1
            if self.run > self.limit:
                raise LineTooLongError(f"a line longer than {self.limit:,} bytes")
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def _cells(path: Path, reader, index: int) -> Iterator[str]:
    """The cells at ``index`` of the rest of a recipients file; a row that
    cannot be read stops the batch with a UsageError naming its line (the
    rows before it are picked)."""
    try:
        for row in reader:
            if row:
                yield row[index] if index < len(row) else ""
    except (OSError, csv.Error) as exc:
        # A line too long is refused before the csv module counts it.
        line = reader.line_num + isinstance(exc, LineTooLongError)
        raise UsageError(
            f"{path} line {line} cannot be read ({exc}); the rows "
            "before it were picked: fix that line and pick for the rest"
        ) from None


def pick_batch(
    store: Store,
    recipients: Iterable[str],
    now: datetime,
    dry_run: bool = False,
    chunk_rows: int = BATCH_CHUNK_ROWS,
) -> Iterator[BatchRow]:
    """Pick for every recipient in turn; one BatchRow per recipient, in order.

    Each pick is recorded as ``pick_sender`` would record it (unless
    ``dry_run``), so consecutive picks rotate. Rows are committed in chunks
    of ``chunk_rows``, one write transaction each, and a chunk's rows are
    yielded once it is committed. The pool's load and health are read once
    and kept up to date in memory; opt-outs and sticky numbers are read per
    chunk, inside its transaction. A bad row fails alone.

    The database's side runs in a helper thread, where SQLite works without
    Python's global lock: a chunk's picks are stored a slice at a time while
    this thread picks the next slice, and the chunk commits while this
    thread reads the next chunk and hands on the rows of the one before.
    The two threads never use the connection at once: this one waits for
    the commit before it begins the next transaction. Meanwhile Python's
    lock changes hands more often (BATCH_SWITCH_INTERVAL), so that the
    helper does not wait for it after each call into SQLite.

    So the chunk after the one being handed on is picked already: a caller
    that stops reading rows (a closed pipe) leaves that chunk recorded too.
    """
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(BATCH_SWITCH_INTERVAL)
    try:
        yield from _pick_chunks(store, recipients, now, dry_run, chunk_rows)
    finally:
        sys.setswitchinterval(switch_interval)


def _pick_chunks(
    store: Store,
    recipients: Iterable[str],
    now: datetime,
    dry_run: bool,
    chunk_rows: int,
) -> Iterator[BatchRow]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsctl") as recorder:
        batch = BatchPicker(store, now, dry_run, recorder)
        picked: list[BatchRow] = []  # the rows of the chunk ``committing`` commits
        committing: Future | None = None
        committed: list[BatchRow] = []  # rows recorded and not yet handed on
        try:
            for chunk in _chunks(recipients, chunk_rows):
                ready = batch.prepare(chunk)
                if committing is not None:
                    committing.result()
                    committed, committing = picked, None
                picked, committing = batch.pick_chunk(ready)
                yield from committed
                committed = []
            if committing is not None:
                committing.result()
                committed, committing = picked, None
        except (Exception, KeyboardInterrupt):
            # What is recorded is handed on before the error, so that no pick
            # counts without the caller knowing of it.
            if committing is not None and committing.exception() is None:
                committed = picked
            yield from committed
            raise
        yield from committed


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of ``size``; when reading them fails (a UsageError),
    the items read before are a last, shorter list, then the error is raised."""
    chunk: list[str] = []
    try:
        for item in items:
            chunk.append(item)
            if len(chunk) == size:
                yield chunk
                chunk = []
    except UsageError:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


class Prepared(NamedTuple):
    """A chunk of recipients as given, normalised, and the valid ones sorted,
    as a JSON array for the lookups."""

    chunk: list[str]
    normalized: list[str | InvalidPhoneError]
    valid_json: str


class BatchPicker:
    """One batch pick: the pool held in memory between chunks, the contacts
    the batch has made sticky, and the thread that records its picks."""

    def __init__(self, store: Store, now: datetime, dry_run: bool, recorder: Executor):
        self.store = store
        self.now = now
        self.dry_run = dry_run
        self.recorder = recorder
        self.settings = load_settings(store)
        self.snapshot: PoolSnapshot | None = None
        self.pool_state: list[tuple] = []
        self.made_sticky: dict[str, str] = {}
        self.picked_at = epoch_of(now)

    @staticmethod
    def prepare(chunk: list[str]) -> Prepared:
        """What picking a chunk needs that the database does not hold."""
        normalized = normalize_phones(chunk, "recipient")
        # Sorted, so that the lookups walk the indexes in order.
        valid = sorted({to for to in normalized if to.__class__ is str})
        return Prepared(chunk, normalized, json.dumps(valid))

    def pick_chunk(self, ready: Prepared) -> tuple[list[BatchRow], Future]:
        """Pick for each recipient of a prepared chunk in one write transaction.

        Returns the rows and the recorder's future that commits the
        transaction, or rolls it back and raises; until it is done, the
        recorder thread may be using the connection.
        """
        store, recording = self.store, []
        if not self.dry_run:
            store.begin()
        try:
            self._read_pool_if_changed()
            opted_out = opted_out_in_json(store, ready.valid_json)
            sticky = self._sticky_among(ready.valid_json)
            rows: list[BatchRow] = []
            for start in range(0, len(ready.chunk), RECORD_SLICE_ROWS):
                end = start + RECORD_SLICE_ROWS
                picks: list[tuple] = []
                new_contacts: list[tuple] = []
                rows += self._pick_rows(
                    ready.chunk[start:end],
                    ready.normalized[start:end],
                    opted_out,
                    sticky,
                    picks,
                    new_contacts,
                )
                if not self.dry_run:
                    recording.append(
                        self.recorder.submit(
                            _record,
                            store,
                            self.picked_at,
                            _pairs_json(picks),
                            new_contacts,
                        )
                    )
        except BaseException:
            for part in recording:  # the recorder must be done with the connection
                part.exception()
            if not self.dry_run:
                store.rollback()
            raise
        if self.dry_run:
            return rows, self.recorder.submit(_nothing)
        return rows, self.recorder.submit(_commit_after, store, recording)

    def _pick_rows(
        self, chunk, normalized, opted_out, sticky, picks, new_contacts
    ) -> list[BatchRow]:
        """One row per recipient; each pick goes to ``picks`` and each contact
        it makes sticky to ``new_contacts`` (and ``sticky``).

        The rules are PoolSnapshot's; a sticky contact, most of a batch, is
        served without building a Choice.
        """
        snapshot, picked_at = self.snapshot, self.picked_at
        place_of, keep_sticky = snapshot.place_of, snapshot.keep_sticky
        choose, take = snapshot.choose, snapshot.take
        failed = BatchRow.failed
        rows: list[BatchRow] = []
        append = rows.append
        for raw, to in zip(chunk, normalized):
            if to.__class__ is not str:
                append(failed(raw, f"invalid: {to}"))
                continue
            if to in opted_out:
                append(failed(to, "opted out of texts from the pool"))
                continue
            place = place_of(to)
            number = sticky.get(to)
            if number is not None:
                sender, over_cap = keep_sticky(number)
                take(sender)
                picks.append((number, to))
                append(
                    BatchRow(
                        to, number, STICKY, None, over_cap, place.quiet_hours, None
                    )
                )
                continue
            try:
                choice = choose(to, place.facts, None)
            except NoSenderError as exc:
                append(failed(to, f"no sender: {exc}"))
                continue
            take(choice.sender)
            number = choice.sender.number
            picks.append((number, to))
            new_contacts.append((to, number, picked_at))
            sticky[to] = self.made_sticky[to] = number
            append(
                BatchRow(
                    to,
                    number,
                    choice.reason,
                    choice.fallback,
                    choice.over_cap,
                    place.quiet_hours,
                    None,
                )
            )
        return rows

    def _read_pool_if_changed(self) -> None:
        """Read the pool (PoolSnapshot) at the first chunk, and again at a
        chunk that finds a number added, removed or made (un)available since:
        its loads then count the batch's committed picks as unmatched ones."""
        state = self.store.execute(POOL_STATE).fetchall()
        if self.snapshot is None or state != self.pool_state:
            self.snapshot = PoolSnapshot.read(self.store, self.now, self.settings)
            self.pool_state = state

    def _sticky_among(self, contacts_json: str) -> dict[str, str]:
        """The pool number each of some contacts (a JSON array) is sticky to,
        where it has one, and the contacts this batch made sticky."""
        in_pool = {number for number, _, removed in self.pool_state if removed is None}
        found = json.loads(self.store.scalar(STICKY_AMONG, (contacts_json,)))
        # A dry run records nothing, so the batch's own contacts come from
        # made_sticky; a number removed meanwhile keeps none of them.
        found.update(self.made_sticky)
        return {
            contact: number for contact, number in found.items() if number in in_pool
        }


# --- explain ---------------------------------------------------------------


def explain_choice(
    snapshot: PoolSnapshot,
    recipient: NumberFacts,
    sticky: tuple[str, int] | None,
    choice: Choice,
) -> list[dict]:
    """Every tier and every number, and why each was chosen or passed over.

    One entry per number (removed ones too), under the closest tier it shares
    with the recipient, tiers in order; a tier with no number gets one entry
    with ``number`` null. Fields: tier, number, chosen, load, health, why.
    """
    steps: list[dict] = []
    chosen = choice.sender
    if sticky is not None:
        why = f"the contact is sticky to it since {iso_utc(sticky[1])}"
        if not chosen.available:
            why += "; unavailable, but it keeps its contacts"
        if choice.over_cap:
            why += f"; over the daily cap ({chosen.load} of {snapshot.daily_cap})"
        steps.append(_step(STICKY, chosen, True, why))
    by_tier: list[list[Sender]] = [[] for _ in TIERS]
    for sender in snapshot.senders.values():
        if sender is not chosen or sticky is None:
            by_tier[tier_of(sender.facts, recipient)].append(sender)
    winning = TIERS.index(choice.reason) if choice.reason in TIERS else None
    for index, (tier, members) in enumerate(zip(TIERS, by_tier)):
        if not members:
            steps.append(
                {
                    "tier": tier,
                    "number": None,
                    "chosen": False,
                    "load": None,
                    "health": None,
                    "why": "no number of the pool is in this tier",
                }
            )
            continue
        open_, shut = _split_candidates(snapshot, members, choice.fallback)
        if index == winning:
            open_ = _ranked(open_, choice.fallback)
        for sender in open_:
            if sticky is not None:
                why = f"not needed: the contact is sticky to {chosen.number}"
            elif index == winning:
                why = _why_in_winning_tier(sender, chosen, snapshot, choice.fallback)
            else:
                why = f"not needed: a closer tier ({choice.reason}) has a number"
            steps.append(_step(tier, sender, sender is chosen, why))
        for sender in sorted(shut, key=lambda s: s.number):
            steps.append(
                _step(tier, sender, False, _why_shut(sender, snapshot, choice.fallback))
            )
    return steps


def _step(tier: str, sender: Sender, chosen: bool, why: str) -> dict:
    return {
        "tier": tier,
        "number": sender.number,
        "chosen": chosen,
        "load": None if sender.removed else sender.load,
        "health": None if sender.health is None else float(sender.health),
        "why": why,
    }


def _split_candidates(
    snapshot: PoolSnapshot, members: list[Sender], fallback: str | None
) -> tuple[list[Sender], list[Sender]]:
    """Numbers that competed in this pick, and numbers held out of it."""
    open_, shut = [], []
    for sender in members:
        held_out = (
            sender.removed
            or not sender.available
            or snapshot.capped(sender)
            or (sender.unhealthy and fallback is None)
        )
        (shut if held_out else open_).append(sender)
    return open_, shut


def _ranked(candidates: list[Sender], fallback: str | None) -> list[Sender]:
    pick = healthiest_sender if fallback else best_sender
    remaining, ranked = list(candidates), []
    while remaining:
        ranked.append(pick(remaining))
        remaining.remove(ranked[-1])
    return ranked


def _why_shut(sender: Sender, snapshot: PoolSnapshot, fallback: str | None) -> str:
    if sender.removed:
        return "removed from the pool"
    if not sender.available:
        return "unavailable: it takes no new contacts"
    if snapshot.capped(sender):
        return f"over the daily cap ({sender.load} of {snapshot.daily_cap})"
    floor = snapshot.settings["pick.health_floor"]
    return (
        f"unhealthy ({sender.health} over {sender.judged} delivered or blocked "
        f"texts, below {floor}); held back while a healthy number can send"
    )


def _why_in_winning_tier(
    sender: Sender, chosen: Sender, snapshot: PoolSnapshot, fallback: str | None
) -> str:
    if sender is chosen:
        if fallback:
            return (
                "unhealthy, but no healthy number can send; the healthiest "
                "unhealthy number of the closest tier"
            )
        return "the best of the closest tier that has a number"
    if fallback and sender.health != chosen.health:
        return f"less healthy ({sender.health} vs {chosen.health})"
    if sender.load != chosen.load:
        return f"higher load ({sender.load} vs {chosen.load})"
    if (
        sender.health is not None
        and chosen.health is not None
        and sender.health != chosen.health
    ):
        return f"lower health ({sender.health} vs {chosen.health})"
    if sender.added_at != chosen.added_at:
        return f"newer number (added {iso_utc(sender.added_at)})"
    return "same load, health and age; the lower number wins"
