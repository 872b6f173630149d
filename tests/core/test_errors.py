from __future__ import annotations

import pytest

from nextcaller_ops import errors as e
from nextcaller_ops.api.error_map import error_from_response


@pytest.mark.parametrize(
    "code,cls",
    [
        (1046, e.InvalidConsumerKeyError),
        (1047, e.InactiveConsumerKeyError),
        (1048, e.MissingConsumerKeyError),
        (1049, e.ExpiredConsumerKeyError),
        (8643, e.BillingError),
        (8644, e.ExpiredTrialError),
        (555, e.InvalidPhoneNumberAPIError),
        (405, e.InvalidProfileIdError),
        (1061, e.RateLimitError),
        (1054, e.ValidationError),
    ],
)
def test_each_documented_code_has_its_class_and_hint(code, cls):
    err = error_from_response(400, {"error": {"message": "m", "type": "t", "code": code}})
    assert type(err) is cls
    assert err.code == code
    assert err.hint and f"[{code}]" in str(err) and err.hint in str(err)


@pytest.mark.parametrize(
    "status,body,cls",
    [
        (401, {"error": {"message": "Invalid signature.", "code": 401}}, e.InvalidSignatureError),
        (429, None, e.RateLimitError),
        (503, None, e.ServerError),
        (404, None, e.NotFoundError),
        (418, None, e.BadResponseError),
        (400, {"error": {"message": "odd", "code": "x"}}, e.APIError),
    ],
)
def test_status_fallbacks(status, body, cls):
    assert type(error_from_response(status, body)) is cls


def test_expired_key_carries_what_to_do_and_each_surface_words_it():
    err = error_from_response(401, {"error": {"message": "Expired consumer key.", "code": "1049"}})
    assert err.action is e.Action.NEW_KEY
    assert "nextcaller-ops" not in str(err)  # the core writes no surface's words
    from nextcaller_ops.cli._common import error_line

    assert "nextcaller-ops login" in error_line(err) and str(err) in error_line(err)


def _all_error_classes(cls=e.NextCallerError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_error_classes(sub)


def test_no_core_error_speaks_a_surfaces_words():
    for cls in _all_error_classes():
        for words in ("nextcaller-ops", "%nextcaller", "--concurrency", "Slack"):
            assert words not in cls.hint, (cls.__name__, words)


def test_validation_details_are_listed():
    err = error_from_response(
        400, {"error": {"message": "Validation error.", "code": 1054, "details": {"email": "not an email address"}}}
    )
    assert "email: not an email address" in str(err)


def test_huge_messages_are_cut():
    err = error_from_response(500, {"error": {"message": "x" * 10_000, "code": 500}})
    assert len(str(err)) < 500


# -- what a refused number is echoed as (issue 11, item 12) ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("212-555-8383 or 312-555-0142", "'212***8383 or 312***0142'"),  # each number masked on its own
        ("1-012-555-8383", "'012***8383'"),  # the country code is not part of the area code
        ("555-0142 x12", "'555***0142'"),  # an extension's digits are not the line's
        ("44 20 7946 0958", "'** ** **** ****'"),  # no US number in it: every digit hidden
    ],
)
def test_a_refused_number_is_echoed_honestly(raw, shown):
    from nextcaller_ops.api.phone import parse

    with pytest.raises(e.InvalidPhoneError) as info:
        parse(raw)
    assert str(info.value).startswith(f"not a phone number {shown}: ")


def test_a_long_refused_input_is_cut_and_shows_no_full_number():
    exc = e.InvalidPhoneError("too long", value="2125558383 " * 6)
    assert "212***8383 212***8383" in str(exc) and "…" in str(exc) and "5558383" not in str(exc)


def test_a_malformed_assignment_is_echoed_with_numbers_masked():
    from nextcaller_ops.api.correction_fields import parse_assignments

    with pytest.raises(e.UsageError) as info:
        parse_assignments(["phone1 2125558383"])
    assert "'phone1 212***8383' is not FIELD=VALUE" in str(info.value)
