"""Phone numbers: parsing to E.164, and the facts of NANP area codes.

Numbers are validated with phonenumbers. The common case, a ten-digit North
American number in a geographic area code that the shipped table knows, is
recognised without importing phonenumbers, which keeps a cold ``send-from
pick`` fast; tests check that both paths agree.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .errors import InvalidPhoneError

# Read by path: importlib.resources would cost a cold pick several milliseconds.
AREA_CODES_CSV = Path(__file__).parent / "data" / "area_codes.csv"
NANP_DIGITS = re.compile(r"\+?1?([2-9][0-9][0-9])([2-9][0-9]{6})")
E164_NANP = re.compile(r"\+1([2-9][0-9][0-9])[2-9][0-9]{6}")
FORMATTING = re.compile(r"[\s().\-]")

# Area codes of the shipped table where phonenumbers (the pinned release)
# does not accept every exchange: codes newer than its metadata, 983 (no 6XX
# exchanges), and territories that list their exchanges one by one. Numbers
# there are always judged by phonenumbers; tests recompute this set.
PARTLY_VALID_AREA_CODES = frozenset(
    {
        "340",
        "357",
        "436",
        "457",
        "621",
        "624",
        "670",
        "671",
        "679",
        "684",
        "729",
        "837",
        "861",
        "924",
        "983",
    }
)


@dataclass(frozen=True)
class AreaCode:
    area_code: str
    country: str
    states: tuple[str, ...]
    overlays: tuple[str, ...]
    zone_groups: tuple[str, ...]
    time_zones: tuple[str, ...]

    @property
    def state(self) -> str:
        """The first state or province served (902 serves NS and PE)."""
        return self.states[0]


@dataclass(frozen=True)
class NumberFacts:
    """Where a number is: its area code's facts, or only its country."""

    number: str
    country: str | None
    area_code: AreaCode | None

    @property
    def state(self) -> str | None:
        return self.area_code.state if self.area_code else None


@lru_cache(maxsize=1)
def _area_codes() -> dict[str, AreaCode]:
    table = AREA_CODES_CSV
    with table.open(encoding="utf-8", newline="") as handle:
        return {
            row["area_code"]: AreaCode(
                area_code=row["area_code"],
                country=row["country"],
                states=_split(row["state"]),
                overlays=_split(row["overlays"]),
                zone_groups=_split(row["zone_group"]),
                time_zones=_split(row["time_zones"]),
            )
            for row in csv.DictReader(handle)
        }


def _split(field: str) -> tuple[str, ...]:
    return tuple(part for part in field.split(";") if part)


@lru_cache(maxsize=1)
def _area_codes_known_whole() -> frozenset[str]:
    """Area codes where every number of the NANP pattern is valid."""
    return frozenset(_area_codes()) - PARTLY_VALID_AREA_CODES


def area_code_facts(area_code: str) -> AreaCode | None:
    """The facts of a geographic NANP area code, or None for any other code."""
    return _area_codes().get(area_code)


def all_area_codes() -> list[AreaCode]:
    return list(_area_codes().values())


def is_plain_nanp_e164(text: str) -> bool:
    """Whether ``text`` is already a valid North American E.164 number, such
    as +14155550123, by the rule normalize_phone applies: most numbers arrive
    so, and this is their cheap path."""
    match = E164_NANP.fullmatch(text)
    return match is not None and match.group(1) in _area_codes_known_whole()


def normalize_phone(text: str, what: str = "phone number") -> str:
    """``text`` as E.164, or InvalidPhoneError naming it.

    Numbers without a country code are read as North American.
    """
    if text.__class__ is str and is_plain_nanp_e164(text):
        return text
    raw = text.strip() if isinstance(text, str) else ""
    compact = FORMATTING.sub("", raw)
    match = NANP_DIGITS.fullmatch(compact)
    if (
        match
        and match.group(1) in _area_codes_known_whole()
        # "+415..." carries another country's code: phonenumbers judges it
        and (compact.startswith("+1") or not compact.startswith("+"))
    ):
        return "+1" + match.group(1) + match.group(2)
    return _normalize_with_phonenumbers(raw, what)


def normalize_phones(
    texts: list[str], what: str = "phone number"
) -> list[str | InvalidPhoneError]:
    """Each of ``texts`` as normalize_phone gives it, or the InvalidPhoneError
    it raises: the form for a batch, with the cheap path taken inline."""
    known, fullmatch = _area_codes_known_whole(), E164_NANP.fullmatch
    found: list[str | InvalidPhoneError] = []
    for text in texts:
        match = fullmatch(text) if text.__class__ is str else None
        if match is not None and match.group(1) in known:
            found.append(text)
            continue
        try:
            found.append(normalize_phone(text, what))
        except InvalidPhoneError as exc:
            found.append(exc)
    return found


def _normalize_with_phonenumbers(raw: str, what: str) -> str:
    import phonenumbers

    if not raw or len(raw) > 64:
        raise InvalidPhoneError(f"{what} {raw[:64]!r} is not a phone number")
    try:
        parsed = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneError(
            f"{what} {raw!r} is not a valid phone number; "
            "give it as +14155550123 or (415) 555-0123"
        )
    if parsed.extension:
        raise InvalidPhoneError(
            f"{what} {raw!r} has an extension, which a text cannot reach; "
            "give the number alone"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def number_facts(number: str) -> NumberFacts:
    """Country and area-code facts of an E.164 number."""
    if number.startswith("+1") and len(number) == 12:
        facts = area_code_facts(number[2:5])
        if facts is not None:
            return NumberFacts(number, facts.country, facts)
    import phonenumbers

    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        region = None
    return NumberFacts(number, region, None)


def state_of(number: str) -> str | None:
    return number_facts(number).state


def mask_phone(number: str) -> str:
    """``+14155550123`` as ``+1415555****``, for logs that will be shared."""
    if len(number) <= 4:
        return "*" * len(number)
    return number[:-4] + "****"


# E.164, the ways people write North American numbers, and bare digit runs;
# not dates or times, whose digits come in other groups.
PHONE_LIKE = re.compile(
    r"\+\d{7,15}|\(?\b\d{3}\)?[ .\-]?\d{3}[ .\-]?\d{4}\b|\b1?\d{10}\b"
)


def redact_phones(text: str) -> str:
    """``text`` with every phone-like run of seven or more digits masked.

    The country code and area code stay readable (``+1415*******``), so a
    shared log still says where a number is, not whose it is.
    """

    def mask(match: re.Match) -> str:
        run = match.group(0)
        digits = [i for i, ch in enumerate(run) if ch.isdigit()]
        if len(digits) < 7:
            return run
        keep = set(digits[: max(0, len(digits) - 7)])
        return "".join(
            "*" if ch.isdigit() and i not in keep else ch for i, ch in enumerate(run)
        )

    return PHONE_LIKE.sub(mask, text)
