"""Generate ``area_codes.csv`` from NANPA's NPA report.

Usage::

    python -m smsctl.data.build_area_codes [REPORT] [OUT]

REPORT defaults to ``nanpa_npa_report.csv`` and OUT to ``area_codes.csv``, both
next to this file. The output has one row per geographic, in-service area code
of the United States (with its territories) and Canada, sorted by area code::

    area_code,country,state,overlays,zone_group,time_zones

This is a build step, not runtime code: it is the only place where smsctl asks
phonenumbers for time zones, and it imports ``phonenumbers.timezone`` only
while building. The output depends on nothing but the report and the installed
phonenumbers data, so the same inputs give byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HERE = Path(__file__).resolve().parent
DEFAULT_REPORT = HERE / "nanpa_npa_report.csv"
DEFAULT_OUT = HERE / "area_codes.csv"

HEADER = ("area_code", "country", "state", "overlays", "zone_group", "time_zones")

REQUIRED_COLUMNS = (
    "NPA_ID",
    "USE",
    "LOCATION",
    "COUNTRY",
    "IN_SERVICE",
    "OVERLAY_COMPLEX",
    "TIME_ZONE",
)

# COUNTRY as the report spells it -> our two-letter country.
COUNTRIES = {"US": "US", "CANADA": "CA"}

US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS "
    "MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI "
    "WY".split()
)

# US territories with their own area codes: LOCATION as the report spells it
# -> postal code. They are listed with country US.
US_TERRITORIES = {
    "PR": "PR",
    "VI": "VI",
    "GU": "GU",
    "CNMI": "MP",
    "MP": "MP",
    "AS": "AS",
}

# Canadian LOCATION values are full names; a code shared by several
# provinces or territories joins the names with hyphens.
CA_PROVINCES = {
    "ALBERTA": "AB",
    "BRITISH COLUMBIA": "BC",
    "MANITOBA": "MB",
    "NEW BRUNSWICK": "NB",
    "NEWFOUNDLAND AND LABRADOR": "NL",
    "NOVA SCOTIA": "NS",
    "NORTHWEST TERRITORIES": "NT",
    "NUNAVUT": "NU",
    "ONTARIO": "ON",
    "PRINCE EDWARD ISLAND": "PE",
    "QUEBEC": "QC",
    "SASKATCHEWAN": "SK",
    "YUKON": "YT",
}

# TIME_ZONE values that are free text rather than letters or an offset,
# rewritten to the letters they describe.
TIME_ZONE_TEXT = {
    # 775 (Nevada): Pacific, except West Wendover, which keeps Mountain time.
    "PT/MT only for W Wendover": "PM",
}

# Zone keys: the report's letters, plus "UTC<offset>" for offset entries.
ZONE_GROUPS = {
    "E": "ET",
    "C": "CT",
    "M": "MT",
    "P": "PT",
    "A": "AT",
    "N": "NT",
    "AK": "AKT",
    "UTC-10": "HT",
    # Guam and the Northern Mariana Islands (UTC+10) and American Samoa
    # (UTC-11) fit none of the groups.
    "UTC+10": "",
    "UTC-11": "",
}

# IANA zones for a zone key, used only when phonenumbers has no answer
# specific to the area code. "A" depends on the country.
FALLBACK_ZONES = {
    "E": "America/New_York",
    "C": "America/Chicago",
    "M": "America/Denver",
    "P": "America/Los_Angeles",
    "AK": "America/Anchorage",
    "UTC-10": "Pacific/Honolulu",
    "N": "America/St_Johns",
    "UTC+10": "Pacific/Guam",
    "UTC-11": "Pacific/Pago_Pago",
}
ATLANTIC_ZONES = {"US": "America/Puerto_Rico", "CA": "America/Halifax"}

_OFFSET = re.compile(r"\(?\s*UTC\s*([+-])\s*(\d{1,2})\s*\)?")
_LETTERS = re.compile(r"AK|[ECMPAN]")
_COMPLEX = re.compile(r"\d{3}(?:/\d{3})*")
_NPA = re.compile(r"[2-9]\d{2}")

ZoneLookup = Callable[[str], Sequence[str]]


class ReportError(ValueError):
    """The report holds a value this script cannot map."""


def read_report(path: Path) -> tuple[str, list[dict[str, str]]]:
    """Return the report's file date and its rows as dicts keyed by column."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        first = next(reader, None)
        if not first or first[0].strip() != "File Date" or len(first) < 2:
            raise ReportError(
                f"{path}: first line should be 'File Date,<date>', got {first!r}"
            )
        header = next(reader, None)
        if header is None:
            raise ReportError(f"{path}: no header line")
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        if missing:
            raise ReportError(f"{path}: missing columns {', '.join(missing)}")
        rows = [dict(zip(header, values)) for values in reader if any(values)]
    return first[1].strip(), rows


def country_of(row: Mapping[str, str]) -> str | None:
    """Our country for a row, or None when the row is outside the table."""
    country = COUNTRIES.get(row["COUNTRY"].strip().upper())
    if country is None and row["LOCATION"].strip().upper() in US_TERRITORIES:
        country = "US"
    return country


def is_selected(row: Mapping[str, str]) -> bool:
    """Whether a row is a geographic, in-service US or Canadian area code."""
    return (
        row["USE"].strip() == "G"
        and row["IN_SERVICE"].strip() == "Y"
        and country_of(row) is not None
    )


def state_of(npa: str, location: str, country: str) -> str:
    """Postal code(s) for a row's LOCATION, ``;``-separated, report order."""
    name = location.strip().upper()
    if country == "US":
        if name in US_TERRITORIES:
            return US_TERRITORIES[name]
        if name in US_STATES:
            return name
        raise ReportError(f"NPA {npa}: unknown US location {location!r}")
    parts = [part.strip() for part in name.split("-")]
    codes = []
    for part in parts:
        if part not in CA_PROVINCES:
            raise ReportError(f"NPA {npa}: unknown Canadian location {location!r}")
        codes.append(CA_PROVINCES[part])
    return ";".join(codes)


def overlays_of(npa: str, value: str) -> str:
    """OVERLAY_COMPLEX normalised: complexes ``;``-separated, no spaces."""
    compact = re.sub(r"\s+", "", value)
    if not compact:
        return ""
    complexes = compact.split(",")
    for item in complexes:
        if not _COMPLEX.fullmatch(item):
            raise ReportError(f"NPA {npa}: unreadable OVERLAY_COMPLEX {value!r}")
    return ";".join(complexes)


def zone_keys(npa: str, value: str) -> tuple[str, ...]:
    """Zone keys for a TIME_ZONE value, in the order the report gives them."""
    text = TIME_ZONE_TEXT.get(value.strip(), value.strip())
    offset = _OFFSET.fullmatch(text)
    if offset:
        key = f"UTC{offset.group(1)}{int(offset.group(2))}"
        if key not in ZONE_GROUPS:
            raise ReportError(f"NPA {npa}: unknown UTC offset in TIME_ZONE {value!r}")
        return (key,)
    letters = text.upper()
    keys = tuple(_LETTERS.findall(letters))
    if not keys or "".join(keys) != letters:
        raise ReportError(f"NPA {npa}: unknown TIME_ZONE letters {value!r}")
    return keys


def zone_group_of(keys: Iterable[str]) -> str:
    """Zone groups for zone keys, ``;``-separated, first occurrence order."""
    groups: list[str] = []
    for key in keys:
        group = ZONE_GROUPS[key]
        if group and group not in groups:
            groups.append(group)
    return ";".join(groups)


def fallback_zones(keys: Iterable[str], country: str) -> set[str]:
    """IANA zones for zone keys from the explicit table above."""
    return {
        ATLANTIC_ZONES[country] if key == "A" else FALLBACK_ZONES[key] for key in keys
    }


def phonenumbers_zones(npa: str) -> tuple[str, ...]:
    """IANA zones phonenumbers gives for the area code, sorted.

    phonenumbers keys its time-zone data by area code and, inside split area
    codes, by exchange, so one sample number can miss zones the code spans.
    This asks for one sample number per exchange (NPA + NXX + "4567") and
    takes the union. Unknown answers and the generic country-wide answer are
    ignored; an empty result means phonenumbers knows nothing specific.
    """
    from phonenumbers import PhoneNumber
    from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

    # A toll-free number is not geographic, so its answer is the generic,
    # country-wide list.
    toll_free = PhoneNumber(country_code=1, national_number=8002345678)
    generic = set(time_zones_for_number(toll_free))
    found: set[str] = set()
    for exchange in range(200, 1000):
        number = PhoneNumber(
            country_code=1, national_number=int(f"{npa}{exchange}4567")
        )
        zones = set(time_zones_for_number(number))
        if UNKNOWN_TIMEZONE in zones or zones == generic:
            continue
        found |= zones
    return tuple(sorted(found))


def check_zones(npa: str, zones: Iterable[str]) -> None:
    """Fail unless zoneinfo accepts every zone."""
    for name in zones:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ReportError(f"NPA {npa}: zoneinfo rejects {name!r}") from exc


def build_rows(
    rows: Iterable[Mapping[str, str]], lookup: ZoneLookup | None = None
) -> list[tuple[str, ...]]:
    """The table's rows for the selected report rows, sorted by area code.

    ``lookup`` gives the IANA zones for an area code; it defaults to
    :func:`phonenumbers_zones`.
    """
    if lookup is None:
        lookup = phonenumbers_zones
    table: dict[str, tuple[str, ...]] = {}
    for row in rows:
        if not is_selected(row):
            continue
        npa = row["NPA_ID"].strip()
        if not _NPA.fullmatch(npa):
            raise ReportError(f"unreadable NPA_ID {row['NPA_ID']!r}")
        if npa in table:
            raise ReportError(f"NPA {npa}: listed twice")
        country = country_of(row) or ""
        keys = zone_keys(npa, row["TIME_ZONE"])
        zones = set(lookup(npa)) or fallback_zones(keys, country)
        check_zones(npa, zones)
        table[npa] = (
            npa,
            country,
            state_of(npa, row["LOCATION"], country),
            overlays_of(npa, row["OVERLAY_COMPLEX"]),
            zone_group_of(keys),
            ";".join(sorted(zones)),
        )
    return [table[npa] for npa in sorted(table)]


def write_table(path: Path, rows: Iterable[Sequence[str]]) -> None:
    """Write the table as CSV with LF line ends."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smsctl.data.build_area_codes",
        description="Generate area_codes.csv from NANPA's NPA report.",
    )
    parser.add_argument(
        "report", nargs="?", type=Path, default=DEFAULT_REPORT, help="NPA report"
    )
    parser.add_argument(
        "out", nargs="?", type=Path, default=DEFAULT_OUT, help="CSV to write"
    )
    args = parser.parse_args(argv)
    report, out = args.report, args.out
    try:
        file_date, rows = read_report(report)
        table = build_rows(rows)
    except ReportError as exc:
        print(f"build_area_codes: error: {exc}", file=sys.stderr)
        return 1
    write_table(out, table)
    counts = {"US": 0, "CA": 0}
    for row in table:
        counts[row[1]] += 1
    print(
        f"wrote {out}: {len(table)} area codes "
        f"(US {counts['US']}, CA {counts['CA']}) from report dated {file_date}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
