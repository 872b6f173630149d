"""Masking: phone numbers and secrets, and the process-wide log redaction."""

from __future__ import annotations

import logging

import pytest

from nextcaller_ops.redact import REDACTED, RedactingFilter, install, mask_phone, mask_secret, redact, register_secret
from tests.support.secrets import (
    BOT_TOKEN,
    REDACT_LONGER_SECRET,
    REDACT_SECRET,
    SLACK_APP_LEVEL_TOKEN,
    SLACK_REFRESH_TOKEN,
    SLACK_USER_TOKEN,
)


def test_mask_phone():
    assert mask_phone("2125558383") == "212***8383"
    assert mask_phone("(212) 555-8383") == "212***8383"
    assert mask_phone("12") == "***"


def test_mask_secret():
    assert mask_secret("EG2D22B98D2232253SE3") == "EG2D…3SE3"
    assert "abc" not in mask_secret("abcdef")
    assert mask_secret(None) == mask_secret("") == "(none)"


# -- registered secrets ---------------------------------------------------------------------


def test_a_registered_secret_is_redacted_wherever_it_appears():
    register_secret(REDACT_SECRET)
    assert redact(f"secret={REDACT_SECRET}; again {REDACT_SECRET}.") == f"secret={REDACTED}; again {REDACTED}."


def test_the_longest_secret_goes_first_so_no_tail_is_left():
    register_secret(REDACT_SECRET)
    register_secret(REDACT_LONGER_SECRET)
    assert redact(f"<{REDACT_LONGER_SECRET}>") == f"<{REDACTED}>"


@pytest.mark.parametrize("value", [None, "", "abc", "12345"])
def test_short_values_are_not_registered_they_would_redact_ordinary_words(value):
    register_secret(value)
    assert redact("abc 12345 words") == "abc 12345 words"


# -- shapes that are secret whether registered or not ------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        BOT_TOKEN,
        SLACK_USER_TOKEN,
        SLACK_APP_LEVEL_TOKEN,
        SLACK_REFRESH_TOKEN,
    ],
    ids=["bot", "user", "app-level", "refresh"],  # not the tokens: ids are printed
)
def test_slack_token_shapes(token):
    out = redact(f"Authorization: Bearer {token} (from env)")
    assert token not in out and out == f"Authorization: Bearer {REDACTED} (from env)"


def test_text_that_only_looks_a_bit_like_a_token_is_left():
    assert redact("xoxb- and xapp-x-abc and boxes") == "xoxb- and xapp-x-abc and boxes"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ('OAuth oauth_nonce="1", oauth_signature="q1W%2Bz9%3D", oauth_version="1.0"', 'oauth_signature="'),
        ("GET /v2/records/?oauth_signature=q1W%2Bz9%3D&phone=x", "oauth_signature="),
        ('{"oauth_signature": "q1W+z9="}', '"oauth_signature": "'),
        ("body=oauth_signature%3Dq1W%252Bz9", "oauth_signature%3D"),
    ],
)
def test_oauth_signatures_in_every_form(text, kept):
    out = redact(text)
    assert "q1W" not in out and kept + REDACTED in out


# -- phone numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["2125558383", "212-555-8383", "(212) 555-8383", "212.555.8383", "+1 212 555 8383", "1-212-555-8383"]
)
def test_phone_numbers_as_people_write_them_are_masked(written):
    out = redact(f"lookup {written} failed")
    assert out.startswith("lookup ") and "212***8383" in out and "555" not in out


@pytest.mark.parametrize(
    "text",
    [
        "ts=1700000000",  # a Unix time: area codes never start with 1
        "order 212555838399",  # longer digit runs are not phone numbers
        "id 97d949a413f4ea8b85e9586e1f2d9a",
    ],
)
def test_things_that_are_not_phone_numbers_are_left(text):
    assert redact(text) == text


# -- every log record of the process -------------------------------------------------------------


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept():
    install()  # idempotent, process-wide: a record factory
    logger = logging.getLogger("tests.redact")
    handler = Keep()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    # Only this handler: a broken one elsewhere would print the raw exception in logging's own error report.
    logger.propagate = False
    yield logger, handler
    logger.propagate = True
    logger.removeHandler(handler)


def test_every_record_is_redacted_when_it_is_created(kept):
    logger, handler = kept
    register_secret(REDACT_SECRET)
    logger.info("login %s with %s for %s", "ok", REDACT_SECRET, "(212) 555-8383")
    (record,) = handler.records
    assert record.getMessage() == f"login ok with {REDACTED} for 212***8383"
    assert record.args is None  # nothing left for a handler to format the raw values from


def test_a_traceback_is_redacted_before_any_handler_sees_it(kept):
    logger, handler = kept
    try:
        raise RuntimeError(f"refused {SLACK_USER_TOKEN} for 2125558383")
    except RuntimeError:
        logger.exception("boom")
    (record,) = handler.records
    assert record.exc_info is None and record.exc_text
    assert "RuntimeError: refused" in record.exc_text and SLACK_USER_TOKEN not in record.exc_text
    assert "212***8383" in record.exc_text
    assert SLACK_USER_TOKEN not in logging.Formatter().format(record)


def test_a_record_whose_args_do_not_fit_is_left_to_the_handler():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("one",), None)
    assert RedactingFilter().filter(record) is True
    assert (record.msg, record.args) == ("%s and %s", ("one",))
