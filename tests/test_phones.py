"""Phone numbers: what people type and exports hold, to E.164."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsctl.errors import InvalidPhoneError
from smsctl.phones import (
    PARTLY_VALID_AREA_CODES,
    all_area_codes,
    area_code_facts,
    normalize_phone,
    number_facts,
    state_of,
)


@pytest.mark.parametrize(
    "typed",
    [
        "+1 (415) 555-0123",
        "415.555.0123",
        "14155550123",
        "4155550123",
        "(415) 555-0123",
        "1-415-555-0123",
        "+14155550123",
        "  415 555 0123  ",
    ],
)
def test_north_american_forms_become_e164(typed):
    assert normalize_phone(typed) == "+14155550123"


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("+33 1 42 68 53 00", "+33142685300"),
        ("604-555-0199", "+16045550199"),  # Vancouver, BC
        ("787 555 0100", "+17875550100"),  # Puerto Rico
    ],
)
def test_other_countries_and_provinces(typed, expected):
    assert normalize_phone(typed) == expected


@pytest.mark.parametrize(
    "typed, message",
    [
        (
            "555-0123",
            "phone number '555-0123' is not a valid phone number; "
            "give it as +14155550123 or (415) 555-0123",
        ),
        (
            "hello",
            "phone number 'hello' is not a valid phone number; "
            "give it as +14155550123 or (415) 555-0123",
        ),
        (
            "415555012",
            "phone number '415555012' is not a valid phone number; "
            "give it as +14155550123 or (415) 555-0123",
        ),
        (
            "4151550123",
            "phone number '4151550123' is not a valid phone number; "
            "give it as +14155550123 or (415) 555-0123",
        ),
        ("", "phone number '' is not a phone number"),
        ("   ", "phone number '' is not a phone number"),
        (
            "+12125550177ext5",
            "phone number '+12125550177ext5' has an extension, which a text "
            "cannot reach; give the number alone",
        ),
        (
            "(415) 555-0123 x 12",
            "phone number '(415) 555-0123 x 12' has an extension, which a text "
            "cannot reach; give the number alone",
        ),
    ],
)
def test_invalid_numbers_are_refused_naming_the_input(typed, message):
    with pytest.raises(InvalidPhoneError) as refused:
        normalize_phone(typed)
    assert str(refused.value) == message
    assert refused.value.exit_code == 2


def test_refusal_names_what_the_number_was_for():
    with pytest.raises(InvalidPhoneError, match=r"^main line '12' is not a valid"):
        normalize_phone("12", "main line")


def test_non_ascii_digits_never_reach_the_store():
    # Arabic-Indic digits in the exchange must not slip through as "E.164".
    typed = "415" + "٥٥٥" + "0123"
    try:
        result = normalize_phone(typed)
    except InvalidPhoneError:
        return
    assert result.isascii()


def _phonenumbers_verdict(text: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _our_verdict(text: str) -> str | None:
    try:
        return normalize_phone(text)
    except InvalidPhoneError:
        return None


table_area_codes = st.sampled_from(sorted(a.area_code for a in all_area_codes()))


@settings(max_examples=400, deadline=None)
@given(digits=st.text("0123456789", min_size=10, max_size=11))
def test_fast_path_agrees_with_phonenumbers_on_digit_strings(digits):
    assert _our_verdict(digits) == _phonenumbers_verdict(digits)


@settings(max_examples=400, deadline=None)
@given(
    area_code=table_area_codes,
    line=st.text("0123456789", min_size=7, max_size=7),
    trunk=st.sampled_from(["", "1", "+1"]),
)
def test_fast_path_agrees_with_phonenumbers_in_every_known_area_code(
    area_code, line, trunk
):
    text = trunk + area_code + line
    assert _our_verdict(text) == _phonenumbers_verdict(text)


def test_partly_valid_area_codes_are_those_phonenumbers_limits():
    """Recomputes the set phones.py defers to phonenumbers: the table's area
    codes where phonenumbers refuses some exchange (validity there depends
    only on the area code and exchange)."""
    limited = set()
    for facts in all_area_codes():
        for exchange in range(200, 1000):
            number = int(f"{facts.area_code}{exchange}0000")
            parsed = phonenumbers.PhoneNumber(country_code=1, national_number=number)
            if not phonenumbers.is_valid_number(parsed):
                limited.add(facts.area_code)
                break
    assert limited == PARTLY_VALID_AREA_CODES


@pytest.mark.parametrize(
    "number, state",
    [
        ("+14155550123", "CA"),
        ("+12125550123", "NY"),
        ("+16045550199", "BC"),
        ("+19025550100", "NS"),
        ("+18005550100", None),  # toll-free: no state
        ("+442079460958", None),
    ],
)
def test_state_comes_from_the_area_code(number, state):
    assert state_of(number) == state


def test_number_facts_know_country_and_overlays():
    facts = number_facts("+16285550100")
    assert facts.country == "US"
    assert facts.area_code is not None and facts.area_code.overlays == ("415/628",)
    assert number_facts("+442079460958").country == "GB"
    assert area_code_facts("800") is None
