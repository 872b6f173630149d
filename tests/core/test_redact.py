"""Masking: phone numbers and secrets, and the process-wide log redaction."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nextcaller_ops.redact import (
    REDACTED,
    RedactingFilter,
    install,
    mask_digits,
    mask_phone,
    mask_secret,
    redact,
    register_secret,
)
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


# -- numbers in encoded text (issue 11, item 3) ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "payload=212+555+8383",  # a form body: spaces as "+"
        "text=%28212%29+555-8383&user=U1",  # percent-encoded parentheses
        "payload=%7B%22phone%22%3A+%222125558383%22%7D",  # the digits right after %22 ("...%222...")
        '{"text": "\\u0032\\u0031\\u00325558383"}',  # JSON escapes
        '{"text": "\\u00202125558383"}',  # an escaped space right before the digits
        "q=%2532%2531%2532%2535%2535%2535%2538%2533%2538%2533",  # percent-encoded twice
        "text=%EF%BC%92%EF%BC%91%EF%BC%92-555-8383",  # fullwidth digits, percent-encoded UTF-8
        "２１２ ５５５ ８３８３",  # fullwidth digits as typed
        "212 - 555 - 8383",
        "212\t555\n8383",
    ],
)
def test_numbers_are_masked_in_encoded_text(text):
    out = redact(text)
    assert "212***8383" in out
    assert "8383" not in out.replace("212***8383", "")
    for needle in ("555", "%2535", "\\u0035", "%35", "５５５"):
        assert needle not in out


_FORMATS = ("{a}{e}{n}", "{a}-{e}-{n}", "({a}) {e}-{n}", "{a}.{e}.{n}", "+1 {a} {e} {n}", "1-{a}-{e}-{n}")
_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(ord("0"), ord("9") + 1)})
# (encode, decode): how text reaches a log, and how a reader would get it back.
_ENCODINGS = {
    "plain": (lambda s: s, lambda s: s),
    "form": (urllib.parse.quote_plus, urllib.parse.unquote_plus),
    "percent": (lambda s: urllib.parse.quote(s, safe=""), urllib.parse.unquote),
    "every byte": (lambda s: "".join(f"%{b:02X}" for b in s.encode()), urllib.parse.unquote),
    "form, twice": (
        lambda s: urllib.parse.quote_plus(urllib.parse.quote_plus(s)),
        lambda s: urllib.parse.unquote_plus(urllib.parse.unquote_plus(s)),
    ),
    "json escapes": (
        lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
        lambda s: re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), s),
    ),
    "json in a form": (
        lambda s: urllib.parse.quote_plus(json.dumps({"text": s})),
        lambda s: urllib.parse.unquote_plus(s),
    ),
    "fullwidth": (lambda s: s.translate(_FULLWIDTH), lambda s: unicodedata.normalize("NFKC", s)),
}
_CONTEXTS = ("{}", "text={}&user=U1", '{{"phone": "{}"}}', "call {} please", "x{}y")


@settings(max_examples=300, deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(0, 999),
    line=st.integers(0, 9999),
    fmt=st.sampled_from(_FORMATS),
    context=st.sampled_from(_CONTEXTS),
    encoding=st.sampled_from(sorted(_ENCODINGS)),
)
def test_property_no_encoding_of_a_number_survives(area, exchange, line, fmt, context, encoding):
    a, e, n = f"{area:03d}", f"{exchange:03d}", f"{line:04d}"
    encode, decode = _ENCODINGS[encoding]
    logged = encode(context.format(fmt.format(a=a, e=e, n=n)))
    out = redact(logged)
    assert f"{a}***{n}" in out
    assert a + e + n not in re.sub(r"\D", "", decode(out)), (logged, out)


@settings(max_examples=200, deadline=None)
@given(
    digits=st.one_of(
        st.integers(1_000_000_000, 1_999_999_999).map(str),  # Unix timestamps
        st.text(alphabet="0123456789", min_size=12, max_size=30),  # ids, card-like runs, ms timestamps
    ),
    context=st.sampled_from(_CONTEXTS),
    encoding=st.sampled_from(sorted(_ENCODINGS)),
)
def test_property_timestamps_and_long_digit_runs_are_left(digits, context, encoding):
    encode, _ = _ENCODINGS[encoding]
    logged = encode(context.format(digits))
    assert redact(logged) == logged


# -- the signature and what was signed, as oauthlib logs them at DEBUG (item 10) ------------------


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Signature: xbvTExCoRPqbzN6xAPXA5SKmdeE=", "xbvT"),
        ("Signing: signature base string: GET&http%3A%2F%2F127.0.0.1%2Fv2%2Frecords%2F&oauth_nonce%3D1", "GET&http"),
        ("Verify HMAC failed: signature base string: POST&http%3A%2F%2Fx", "POST&http"),
        ("Collected params: [('oauth_signature', 'q1W+z9='), ('format', 'json')]", "q1W"),
        ("headers: {'X-Slack-Signature': 'v0=abcdef0123456789'}", "abcdef"),
        ("Authorization=OAuth%20oauth_signature%3D%22q1W%252Bz9%22%2C%20oauth_version", "q1W"),
    ],
)
def test_signatures_and_base_strings_in_every_form(text, gone):
    out = redact(text)
    assert gone not in out and REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        'oauth_signature_method="HMAC-SHA1"',
        "a bad signature, a replayed nonce or a clock that is off",
        "the API refused the request's signature — the consumer secret is probably wrong",
        "Valid signature: False",
    ],
)
def test_words_about_signatures_are_left(text):
    assert redact(text) == text


# -- echoing refused input (item 12) ----------------------------------------------------------------


def test_mask_phone_drops_the_country_code_not_the_area_code():
    assert mask_phone("1-212-555-8383") == "212***8383"


def test_mask_digits_masks_each_number_on_its_own():
    assert mask_digits("212-555-8383 or 312-555-0142") == "212***8383 or 312***0142"
    assert mask_digits("order 212555838399") == "order ************"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Basic RUcyRDIyQjk4OnNlY3JldA==",  # v2.1's Basic: base64 of key:secret, never registered
        "{b'Authorization': b'Basic RUcyRDIyQjk4OnNlY3JldA=='}",
        "{'authorization': 'Bearer abc.def-ghi'}",
    ],
)
def test_basic_and_bearer_credentials_are_redacted(text):
    out = redact(text)
    assert "RUcy" not in out and "abc.def" not in out and REDACTED in out


def test_a_value_already_redacted_is_not_redacted_again():
    register_secret(REDACT_SECRET)
    for text in (f"Authorization: Bearer {REDACT_SECRET} (x)", f"oauth_signature={REDACT_SECRET}&x"):
        assert redact(text).count(REDACTED + "]") == 0 and redact(text).count(REDACTED) == 1
