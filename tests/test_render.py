"""Output: formula-safe CSV, flattened fields, bars that read without colour."""

from __future__ import annotations

import csv
import io
import json

import pytest

from smsctl.render import (
    Column,
    emit_listing,
    error,
    flatten,
    safe_cell,
    sparkline,
    stacked_bar,
    write_csv,
)


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1 (415) 555-0123", "'+1 (415) 555-0123"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("+14155550123", "+14155550123"),  # E.164 stays
        ("+442079460958", "+442079460958"),
        ("-5", "-5"),  # plain numbers stay
        ("-0.25", "-0.25"),
        ("+7", "+7"),
        ("2.34", "2.34"),
        ("Spring open house", "Spring open house"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (66.7, "66.7"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_flatten_names_undelivered_detail_as_design_says():
    row = {
        "number": "+14155550101",
        "undelivered": 5,
        "undelivered_detail": {
            "failed": 3,
            "opted_out": 1,
            "provider_not_found": 1,
            "line_deactivated": 0,
        },
        "drips": [{"id": 1, "name": "Spring"}],
        "nested": {"deeper": {"value": 1}},
    }
    assert flatten(row) == {
        "number": "+14155550101",
        "undelivered": 5,
        "undelivered_failed": 3,
        "undelivered_opted_out": 1,
        "undelivered_provider_not_found": 1,
        "undelivered_line_deactivated": 0,
        "drips": '[{"id":1,"name":"Spring"}]',
        "nested_deeper_value": 1,
    }


def test_write_csv_neutralises_cells_but_not_the_json(capsys):
    rows = [{"name": "=1+2", "number": "+14155550101", "count": -3}]
    write_csv(rows)
    emitted = capsys.readouterr().out
    assert list(csv.reader(io.StringIO(emitted))) == [
        ["name", "number", "count"],
        ["'=1+2", "+14155550101", "-3"],
    ]
    emit_listing(rows, [Column("name", "Name")], "json")
    assert json.loads(capsys.readouterr().out) == rows


def test_empty_listing_csv_keeps_its_header(capsys):
    columns = [Column("id", "ID"), Column("sha256", "SHA-256", hidden=True)]
    emit_listing([], columns, "csv")
    assert capsys.readouterr().out == "id,sha256\n"
    emit_listing([], columns, "json")
    assert capsys.readouterr().out == "[]\n"


def test_hidden_columns_stay_out_of_tables(capsys):
    columns = [Column("id", "ID"), Column("sha256", "SHA-256", hidden=True)]
    emit_listing([{"id": 1, "sha256": "abc"}], columns, "table")
    table = capsys.readouterr().out
    assert "ID" in table and "SHA-256" not in table and "abc" not in table


def test_numbers_list_csv_flattens_and_stays_safe(pool):
    lines = pool.ok("numbers", "list", "--format", "csv").stdout.splitlines()
    assert lines[0] == (
        "number,is_main,available,removed,health,unhealthy,state,date_added,"
        "active_drips,total_sent,delivered,undelivered,blocked,undelivered_failed,"
        "undelivered_opted_out,undelivered_provider_not_found,"
        "undelivered_line_deactivated"
    )
    assert lines[1] == (
        "+14155550100,true,true,false,,false,CA,2026-12-04,0,0,0,0,0,0,0,0,0"
    )


def test_config_list_csv(pool):
    lines = pool.ok("config", "list", "--format", "csv").stdout.splitlines()
    assert lines[0] == "key,value,default,help"
    assert lines[1].startswith("billing.closing_day,1,1,")


@pytest.mark.parametrize(
    "values, top, line",
    [
        ([0, 1, 2, 4, 8], None, " ▂▃▅█"),
        ([0, 0], None, "  "),
        ([None, 0, 50, 100], 100, "· ▅█"),
        ([], None, ""),
        ([3, 300], 100, "▁█"),  # above zero shows, above top is capped
    ],
)
def test_sparkline(values, top, line):
    assert sparkline(values, top=top) == line


def test_sparkline_can_show_zero_as_the_lowest_bar():
    assert sparkline([0.0, None, 100.0], top=100, blank_zero=False) == "▁·█"


@pytest.mark.parametrize(
    "sent, blocked, top, bar",
    [
        (10, 0, 10, "█" * 30),
        (10, 5, 10, "█" * 15 + "░" * 15),
        (5, 5, 10, "░" * 15),
        (1, 1, 1000, "░"),  # tiny days still show
        (1, 0, 1000, "█"),
        (0, 0, 10, ""),
    ],
)
def test_stacked_bar(sent, blocked, top, bar):
    assert stacked_bar(sent, blocked, top) == bar


def test_error_is_one_line_on_stderr(capsys):
    error("first line\n  second line")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "Error: first line second line\n")
