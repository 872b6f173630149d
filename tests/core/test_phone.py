from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nextcaller_ops.api.phone import find_numbers, parse
from nextcaller_ops.errors import InvalidPhoneError


@pytest.mark.parametrize(
    "text",
    [
        "(212) 555-8383",
        "+1 212.555.8383",
        "1-212-555-8383",
        "212-555-8383",
        "2125558383",
        " 212 555 8383 ",
        "２１２５５５８３８３",
        "+1 (212) 555 8383",
    ],
)
def test_accepts_common_us_formats(text):
    assert parse(text).number == "2125558383"


@pytest.mark.parametrize(
    "text,ext", [("212-555-8383 x12", "12"), ("212-555-8383 ext. 7", "7"), ("(212) 555-8383 ext 1234", "1234")]
)
def test_extension_is_split_off_and_reported(text, ext):
    parsed = parse(text)
    assert (parsed.number, parsed.extension) == ("2125558383", ext)


@pytest.mark.parametrize(
    "text,reason",
    [
        ("212555838", "too short"),
        ("21255583831", "too long"),
        ("212-555-CALL", "letters"),
        ("+44 20 7946 0958", "not a US number"),
        ("", "no phone number"),
        ("   ", "no phone number"),
        ("1234567890", "not a valid US number"),
        ("6495551234", "not a US number"),
        ("2125558383&format=xml", "letters"),
        ("../../etc/passwd", "letters"),
        ("../2125558383", "not part of a phone number"),
        ("2125558383;", "not part"),
        ("--..()", "has no digits"),
        ("9" * 200, "too long"),
    ],
)
def test_refuses_with_a_reason(text, reason):
    with pytest.raises(InvalidPhoneError) as info:
        parse(text)
    assert reason in str(info.value)
    assert "10-digit" in info.value.hint


def test_refusal_masks_the_number():
    with pytest.raises(InvalidPhoneError) as info:
        parse("21255583831")
    assert "21255583831" not in str(info.value)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_a_clean_number_or_a_refusal(text):
    try:
        parsed = parse(text)
    except InvalidPhoneError as exc:
        assert exc.reason
        return
    assert len(parsed.number) == 10 and parsed.number.isascii() and parsed.number.isdigit()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=2, max_value=9),
    st.integers(0, 99),
    st.integers(2, 9),
    st.integers(0, 99),
    st.integers(0, 9999),
    st.sampled_from(["{a}{b}{c}", "({a}) {b}-{c}", "+1 {a}.{b}.{c}", "1-{a}-{b}-{c}"]),
)
def test_formats_of_a_valid_number_agree(a1, a2, b1, b2, c, template):
    area, exch = f"{a1}{a2:02d}", f"{b1}{b2:02d}"
    plain = f"{area}{exch}{c:04d}"
    try:
        expected = parse(plain).number
    except InvalidPhoneError:
        return
    assert parse(template.format(a=area, b=exch, c=f"{c:04d}")).number == expected == plain


def test_find_numbers_in_free_text():
    found = find_numbers("Caller said call back at (212) 555-8383 or 312.555.0142; not 555-01. Again 2125558383")
    assert [p.number for p in found] == ["2125558383", "3125550142"]


@pytest.mark.parametrize("text", ["(012) 555-8383", "1-012-555-8383", "+1 012 555 8383"])
def test_ten_digits_with_a_bad_area_code_are_not_called_too_short_or_too_long(text):
    with pytest.raises(InvalidPhoneError) as info:
        parse(text)
    assert info.value.reason == "not a valid US number (an area code never starts with 0 or 1)"
