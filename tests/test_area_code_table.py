"""The committed area-code table and the script that generates it."""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smsctl.data import build_area_codes as build

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "smsctl" / "data"
REPORT = DATA / "nanpa_npa_report.csv"
TABLE = DATA / "area_codes.csv"

HEADER = "area_code,country,state,overlays,zone_group,time_zones"
REPORT_SHA256 = "20d7ee20c913391955437de0db6e03e879c1a9c574e8e62da22f1eeea36072c6"
TERRITORY_CODES = {
    "340": "VI",
    "670": "MP",
    "671": "GU",
    "684": "AS",
    "787": "PR",
    "939": "PR",
}
PROVINCES = {
    "AB",
    "BC",
    "MB",
    "NB",
    "NL",
    "NS",
    "NT",
    "NU",
    "ON",
    "PE",
    "QC",
    "SK",
    "YT",
}
ZONE_GROUPS = {"ET", "CT", "MT", "PT", "AT", "NT", "AKT", "HT"}


def load_table() -> dict[str, dict[str, str]]:
    with open(TABLE, newline="", encoding="utf-8") as handle:
        return {row["area_code"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, str]]:
    return load_table()


def row_of(line: str) -> dict[str, str]:
    return dict(zip(HEADER.split(","), line.split(",")))


# --- the committed files ----------------------------------------------------


def test_report_is_the_unchanged_nanpa_file():
    data = REPORT.read_bytes()
    assert hashlib.sha256(data).hexdigest() == REPORT_SHA256
    lines = data.split(b"\r\n")
    assert lines[0] == b"File Date,11/26/2025"
    assert lines[1].startswith(b"NPA_ID,type_of_code,ASSIGNABLE,")
    assert lines[2].startswith(b"200,")
    # One row per NPA 200-999 between the two header lines and the final CRLF.
    assert len(lines) == 2 + 800 + 1 and lines[-1] == b""


def test_table_layout():
    text = TABLE.read_bytes().decode("utf-8")
    assert "\r" not in text
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    assert lines[0] == HEADER
    codes = [line.split(",")[0] for line in lines[1:]]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    assert all(len(line.split(",")) == 6 for line in lines)


def test_row_counts(table):
    countries = [row["country"] for row in table.values()]
    assert len(table) == 430
    assert countries.count("US") == 375
    assert countries.count("CA") == 55
    territories = {
        code: row["state"]
        for code, row in table.items()
        if row["state"] in {"PR", "VI", "GU", "MP", "AS"}
    }
    assert territories == TERRITORY_CODES
    assert all(table[code]["country"] == "US" for code in TERRITORY_CODES)
    states = {row["state"] for row in table.values() if row["country"] == "US"}
    assert len(states - set(TERRITORY_CODES.values())) == 51  # 50 states + DC


@pytest.mark.parametrize(
    "line",
    [
        "415,US,CA,415/628,PT,America/Los_Angeles",
        "212,US,NY,212/332/646/917,ET,America/New_York",
        "917,US,NY,212/332/646/917;347/465/718/917/929,ET,America/New_York",
        "564,US,WA,206/564;360/564,PT,America/Los_Angeles",
        "943,US,GA,404/470/678/943;470/678/770/943,ET,America/New_York",
        "204,CA,MB,204/431/584,CT,America/Winnipeg",
        "416,CA,ON,416/437/647,ET,America/Toronto",
        "709,CA,NL,709/879,NT,America/Halifax;America/St_Johns",
        "902,CA,NS;PE,782/902,AT,America/Halifax",
        "867,CA,NT;YT;NU,,CT;MT;PT,America/Edmonton;America/Fort_Nelson;"
        "America/Toronto;America/Vancouver;America/Winnipeg",
        "850,US,FL,448/850,ET;CT,America/Chicago;America/New_York",
        "208,US,ID,208/986,MT;PT,America/Boise;America/Denver;America/Los_Angeles",
        "775,US,NV,,PT;MT,America/Boise;America/Denver;America/Los_Angeles",
        "907,US,AK,,AKT,America/Adak;America/Anchorage;America/Juneau;"
        "Pacific/Honolulu",
        "808,US,HI,,HT,Pacific/Honolulu",
        "787,US,PR,787/939,AT,America/Puerto_Rico",
        "340,US,VI,,AT,America/St_Thomas",
        "670,US,MP,,,Pacific/Saipan",
        "671,US,GU,,,Pacific/Guam",
        "684,US,AS,,,Pacific/Pago_Pago",
        "202,US,DC,202/771,ET,America/New_York",
        # Codes phonenumbers does not know yet take the zone-letter fallback.
        "729,US,TN,423/729,ET;CT,America/Chicago;America/New_York",
        "837,US,CA,530/837,PT,America/Los_Angeles",
    ],
)
def test_known_rows(table, line):
    expected = row_of(line)
    assert table[expected["area_code"]] == expected


def test_not_in_table(table):
    # 800 is non-geographic, 876 is Jamaica, 565 (GA) is not in service yet.
    for code in ("800", "876", "565", "200"):
        assert code not in table


def test_states_are_postal_codes(table):
    provinces = set()
    for row in table.values():
        parts = row["state"].split(";")
        if row["country"] == "CA":
            assert set(parts) <= PROVINCES, row
            provinces.update(parts)
        else:
            assert len(parts) == 1 and len(parts[0]) == 2 and parts[0].isupper()
    assert provinces == PROVINCES


def test_overlays_list_the_code_itself(table):
    with_overlay = 0
    for code, row in table.items():
        if not row["overlays"]:
            continue
        with_overlay += 1
        for complex_ in row["overlays"].split(";"):
            assert code in complex_.split("/"), row
    assert with_overlay == 314
    two = sorted(code for code, row in table.items() if ";" in row["overlays"])
    assert two == ["564", "872", "878", "917", "943"]


def test_zone_groups(table):
    multi = set()
    for code, row in table.items():
        groups = row["zone_group"].split(";") if row["zone_group"] else []
        assert set(groups) <= ZONE_GROUPS, row
        if len(groups) > 1:
            multi.add(code)
    empty = sorted(code for code, row in table.items() if not row["zone_group"])
    assert empty == ["670", "671", "684"]
    assert len(multi) == 24
    assert {"208", "219", "270", "775", "807", "850", "867", "915"} <= multi


def test_every_time_zone_loads(table):
    for row in table.values():
        zones = row["time_zones"].split(";")
        assert zones and all(zones), row
        assert zones == sorted(set(zones)), row
        for name in zones:
            assert ZoneInfo(name).key == name


# --- the build script -------------------------------------------------------


def test_script_regenerates_the_table(tmp_path):
    out = tmp_path / "area_codes.csv"
    result = subprocess.run(
        [sys.executable, "-m", "smsctl.data.build_area_codes", str(REPORT), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "430 area codes (US 375, CA 55)" in result.stdout
    assert out.read_bytes() == TABLE.read_bytes(), (
        "area_codes.csv differs from a fresh build: rerun "
        "python -m smsctl.data.build_area_codes"
    )


def test_build_modules_do_not_load_phonenumbers_timezone():
    code = (
        "import sys, smsctl, smsctl.data, smsctl.data.build_area_codes\n"
        "bad = [m for m in ('phonenumbers.timezone', 'phonenumbers.geocoder')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def report_row(**values: str) -> dict[str, str]:
    row = {
        "NPA_ID": "415",
        "USE": "G",
        "LOCATION": "CA",
        "COUNTRY": "US",
        "IN_SERVICE": "Y",
        "OVERLAY_COMPLEX": "",
        "TIME_ZONE": "P",
    }
    row.update(values)
    return row


def no_zones(npa: str) -> tuple[str, ...]:
    return ()


def test_build_rows_selection_and_fallbacks():
    canada = "CANADA"
    rows = [
        report_row(NPA_ID="787", LOCATION="PR", TIME_ZONE="A"),
        report_row(
            NPA_ID="506", LOCATION="NEW BRUNSWICK", COUNTRY=canada, TIME_ZONE="A"
        ),
        report_row(NPA_ID="876", LOCATION="JAMAICA", COUNTRY="JAMAICA"),
        report_row(NPA_ID="565", IN_SERVICE="N"),
        report_row(NPA_ID="800", USE="N", LOCATION="", COUNTRY=""),
        # A territory is kept by its location even without COUNTRY US.
        report_row(NPA_ID="684", LOCATION="AS", COUNTRY="", TIME_ZONE="UTC-11"),
        report_row(NPA_ID="670", LOCATION="CNMI", TIME_ZONE="(UTC+10)"),
        report_row(NPA_ID="808", LOCATION="HI", TIME_ZONE="(UTC-10)"),
        report_row(NPA_ID="907", LOCATION="AK", TIME_ZONE="AK"),
        report_row(
            NPA_ID="867",
            LOCATION="NORTHWEST TERRITORIES -YUKON - NUNAVUT",
            COUNTRY=canada,
            TIME_ZONE="CMP",
            OVERLAY_COMPLEX=" 111/867 , 222/867 ",
        ),
        report_row(
            NPA_ID="709",
            LOCATION="NEWFOUNDLAND AND LABRADOR",
            COUNTRY=canada,
            TIME_ZONE="N",
            OVERLAY_COMPLEX="709/879 ",
        ),
        report_row(NPA_ID="775", LOCATION="NV", TIME_ZONE="PT/MT only for W Wendover"),
    ]
    assert build.build_rows(rows, lookup=no_zones) == [
        ("506", "CA", "NB", "", "AT", "America/Halifax"),
        ("670", "US", "MP", "", "", "Pacific/Guam"),
        ("684", "US", "AS", "", "", "Pacific/Pago_Pago"),
        ("709", "CA", "NL", "709/879", "NT", "America/St_Johns"),
        ("775", "US", "NV", "", "PT;MT", "America/Denver;America/Los_Angeles"),
        ("787", "US", "PR", "", "AT", "America/Puerto_Rico"),
        ("808", "US", "HI", "", "HT", "Pacific/Honolulu"),
        (
            "867",
            "CA",
            "NT;YT;NU",
            "111/867;222/867",
            "CT;MT;PT",
            "America/Chicago;America/Denver;America/Los_Angeles",
        ),
        ("907", "US", "AK", "", "AKT", "America/Anchorage"),
    ]


def test_build_rows_prefers_phonenumbers_zones():
    rows = [report_row(NPA_ID="850", LOCATION="FL", TIME_ZONE="EC")]

    def lookup(npa: str) -> tuple[str, ...]:
        assert npa == "850"
        return ("America/New_York", "America/Chicago")

    assert build.build_rows(rows, lookup=lookup) == [
        ("850", "US", "FL", "", "ET;CT", "America/Chicago;America/New_York")
    ]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"LOCATION": "ZZ"}, "NPA 415: unknown US location 'ZZ'"),
        (
            {"LOCATION": "NEW ONTARIO", "COUNTRY": "CANADA"},
            "NPA 415: unknown Canadian location 'NEW ONTARIO'",
        ),
        (
            {"LOCATION": "ONTARIO - ATLANTIS", "COUNTRY": "CANADA"},
            "NPA 415: unknown Canadian location 'ONTARIO - ATLANTIS'",
        ),
        ({"TIME_ZONE": "EX"}, "NPA 415: unknown TIME_ZONE letters 'EX'"),
        ({"TIME_ZONE": ""}, "NPA 415: unknown TIME_ZONE letters ''"),
        ({"TIME_ZONE": "PT only"}, "NPA 415: unknown TIME_ZONE letters 'PT only'"),
        ({"TIME_ZONE": "(UTC+5)"}, "NPA 415: unknown UTC offset in TIME_ZONE"),
        (
            {"OVERLAY_COMPLEX": "415/62"},
            "NPA 415: unreadable OVERLAY_COMPLEX '415/62'",
        ),
    ],
)
def test_build_rows_fails_loudly(values, message):
    with pytest.raises(build.ReportError) as caught:
        build.build_rows([report_row(**values)], lookup=no_zones)
    assert message in str(caught.value)


def test_build_rows_rejects_a_duplicate_code():
    with pytest.raises(build.ReportError, match="NPA 415: listed twice"):
        build.build_rows([report_row(), report_row()], lookup=no_zones)


def test_build_rows_rejects_a_zone_zoneinfo_does_not_know():
    def lookup(npa: str) -> tuple[str, ...]:
        return ("America/Nowhere",)

    with pytest.raises(build.ReportError, match="zoneinfo rejects 'America/Nowhere'"):
        build.build_rows([report_row()], lookup=lookup)


def test_main_reports_an_unmapped_location_and_writes_nothing(tmp_path, capsys):
    header = REPORT.read_bytes().split(b"\r\n")[1].decode("utf-8")
    columns = header.split(",")
    values = dict.fromkeys(columns, "")
    values.update(report_row(LOCATION="ATLANTIS", COUNTRY="CANADA"))
    report = tmp_path / "report.csv"
    with open(report, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["File Date", "01/01/2030"])
        writer.writerow(columns)
        writer.writerow([values[name] for name in columns])
    out = tmp_path / "out.csv"
    assert build.main([str(report), str(out)]) == 1
    assert not out.exists()
    assert "unknown Canadian location 'ATLANTIS'" in capsys.readouterr().err


def test_main_writes_a_small_report(tmp_path, capsys, monkeypatch):
    header = REPORT.read_bytes().split(b"\r\n")[1].decode("utf-8")
    columns = header.split(",")
    report = tmp_path / "report.csv"
    with open(report, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["File Date", "01/01/2030"])
        writer.writerow(columns)
        for row in (
            report_row(NPA_ID="808", LOCATION="HI", TIME_ZONE="(UTC-10)"),
            report_row(OVERLAY_COMPLEX="415/628 "),
        ):
            values = dict.fromkeys(columns, "")
            values.update(row)
            writer.writerow([values[name] for name in columns])
    monkeypatch.setattr(build, "phonenumbers_zones", no_zones)
    out = tmp_path / "out.csv"
    assert build.main([str(report), str(out)]) == 0
    assert out.read_bytes() == (
        b"area_code,country,state,overlays,zone_group,time_zones\n"
        b"415,US,CA,415/628,PT,America/Los_Angeles\n"
        b"808,US,HI,,HT,Pacific/Honolulu\n"
    )
    assert "2 area codes (US 2, CA 0) from report dated 01/01/2030" in (
        capsys.readouterr().out
    )
