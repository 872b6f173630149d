"""Slack markup from a record, the API or a person never acts in what the bot posts (issue 20, defect 5).

A record is the API's word, and the API's word is untrusted: a ``fraud_threat`` of
``<!channel> <https://evil.example|click>`` in a public triage reply would ping the
channel and show a link.  Property tests over every builder that puts record or
typed text into a message (:mod:`bot.blocks`, :mod:`bot.triage.cards`,
:mod:`bot.modal`, :mod:`bot.messages`): whatever a field holds, every mrkdwn text
and every message's notification text comes out with no ``<`` or ``>`` but the
bot's own tokens (a mention of a real Slack id, a date), and every ``&`` escaped.
plain_text (headers, buttons, the form's inputs) is never parsed by Slack: it keeps
the record's words as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import blocks, messages, modal
from bot.policy import Refusal
from bot.triage import cards
from bot.triage.outcomes import FAILED, FOUND, GAVE_UP, PAUSED, NumberOutcome
from nextcaller_ops import errors
from nextcaller_ops.api.models import Profile
from nextcaller_ops.api.record_parts import Address, PhoneNumber, SocialLink
from nextcaller_ops.stores import TriageItem

PHONE = "2125558383"
MARKUP = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0TEAM0001>",
    "<@U0BOSS0001>",
    "<@W0BOSS0001|boss>",
    "<#C0SECRET01>",
    "<#C0SECRET01|secret>",
    "<https://evil.example|click>",
    "<https://evil.example>",
    "<mailto:boss@evil.example|mail>",
    "<!date^1700000000^{date}|today>",
    "&lt;!channel&gt;",  # already "escaped" by the record: must not come out as an entity Slack decodes to markup
]

hostile = st.builds(lambda a, m, b: a + m + b, st.text(max_size=6), st.sampled_from(MARKUP), st.text(max_size=6))
text = st.one_of(hostile, st.text(max_size=24))
slack_id = st.from_regex(r"[UW][A-Z0-9]{8,10}", fullmatch=True)
actor = st.one_of(st.none(), slack_id, text)  # who claimed: Slack's id, or anything a store row could hold
moment = st.floats(min_value=0, max_value=4e9, allow_nan=False)

addresses = st.lists(
    st.builds(Address, line1=text, line2=text, city=text, state=text, zip_code=text, extended_zip=text, country=text),
    max_size=2,
).map(tuple)
phones = st.lists(
    st.builds(
        lambda n, c, t: PhoneNumber(n, {"carrier": c, "line_type": t}), st.one_of(st.just(PHONE), text), text, text
    ),
    max_size=2,
).map(tuple)
socials = st.lists(st.builds(SocialLink, type=text, url=text), max_size=2).map(tuple)
profiles = st.builds(
    Profile,
    id=text,
    first_name=text,
    last_name=text,
    name=text,
    language=text,
    fraud_threat=text,
    email=text,
    carrier=text,
    department=text,
    phones=phones,
    addresses=addresses,
    line_type=text,
    spoof=text,
    social_links=socials,
    age=text,
    gender=text,
    member=st.one_of(st.none(), st.booleans()),
    billing_info_on_file=st.one_of(st.none(), st.booleans()),
)
records = st.lists(profiles, min_size=1, max_size=4)

PROPERTY = settings(max_examples=150, deadline=None)


# -- what "inert" means ------------------------------------------------------------------------


def _text_objects(obj: Any) -> Iterator[dict[str, Any]]:
    if isinstance(obj, dict):
        if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
            yield obj
        for value in obj.values():
            yield from _text_objects(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _text_objects(value)


def _bot_tokens(actors: Iterable[str | None] = (), moments: Iterable[float | None] = ()) -> set[str]:
    """The markup the bot itself writes for these inputs: mentions of real Slack ids, its date tokens."""
    tokens = {messages.mention(a) for a in actors if a and messages.mention(a).startswith("<@")}
    return tokens | {messages.when(m or 0) for m in moments}


_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_inert(text: str, tokens: Iterable[str] = ()) -> None:
    """No markup but the bot's own ``tokens``: every <, > and & of anyone else's text escaped."""
    rest = text
    for token in sorted(tokens, key=len, reverse=True):
        rest = rest.replace(token, "")
    assert "<" not in rest and ">" not in rest, text
    assert not _ENTITY.search(rest), text


def assert_blocks_inert(payload: Any, tokens: Iterable[str] = ()) -> None:
    """Every mrkdwn text in ``payload`` inert; plain_text is shown as written (Slack never parses it)."""
    objects = list(_text_objects(payload))
    assert objects  # the walk found the texts: a builder that changed shape must not pass unseen
    for obj in objects:
        if obj["type"] == "mrkdwn":
            assert_inert(obj["text"], tokens)


# -- the fixed case: a public triage reply ---------------------------------------------------------


def test_a_fraud_threat_holding_markup_does_not_ping_the_channel_from_a_triage_reply():
    record = Profile(first_name="Jerry", last_name="Seinfeld", fraud_threat="<!channel> <https://evil.example|click>")
    found = NumberOutcome(PHONE, FOUND, 1, (record,))
    card = cards.number_blocks(found, channel_id="C0WATCHED1", message_ts="1.000001", pii=False, budget=60, index=0)
    shown = card[0]["text"]["text"]
    assert "<!channel>" not in shown and "<https://" not in shown
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; fraud threat" in shown
    assert_blocks_inert(card)


# -- every builder, any record ---------------------------------------------------------------------


@PROPERTY
@given(records, st.booleans(), st.booleans(), actor)
def test_private_and_shared_cards(found, redact, fraud_check, shared_by):
    tokens = _bot_tokens([shared_by])
    card = blocks.profile_cards(
        found, PHONE, redact=redact, buttons=not redact, shared_by=shared_by, fraud_check=fraud_check
    )
    assert_blocks_inert(card, tokens)
    assert_inert(blocks.card_text(found, PHONE))
    for header in (b for b in card if b["type"] == "header"):
        assert header["text"]["type"] == "plain_text"  # the name as written: Slack shows it, never parses it


@PROPERTY
@given(
    records, st.booleans(), st.integers(min_value=1, max_value=50), st.sampled_from([FOUND, FAILED, PAUSED, GAVE_UP])
)
def test_triage_compact_cards_and_the_replys_text(found, pii, seen, kind):
    outcomes = [
        NumberOutcome(PHONE, FOUND, seen, tuple(found)),
        NumberOutcome("3125550142", kind, seen, tuple(found) if kind == FOUND else ()),
        NumberOutcome("2025550999", FOUND, 1, ()),
    ]
    for i, outcome in enumerate(outcomes):
        card = cards.number_blocks(outcome, channel_id="C0WATCHED1", message_ts="1.000001", pii=pii, budget=60, index=i)
        assert_blocks_inert(card)
    assert_inert(cards.reply_text(outcomes))


@PROPERTY
@given(records, actor, moment, actor, st.one_of(st.none(), moment), actor, st.one_of(st.none(), moment))
def test_a_triage_reply_with_who_did_what(found, claimer, claimed_at, resolver, resolved_at, flagger, flagged_at):
    item = TriageItem(
        channel_id="C0WATCHED1",
        message_ts="1.000001",
        thread_ts="1.000001",
        poster="U0CALLER01",
        numbers=[PHONE],
        created=0.0,
        claimed_by=claimer,
        claimed_at=claimed_at if claimer else None,
        resolved_by=resolver,
        resolved_at=resolved_at,
        flagged_by=flagger,
        flagged_at=flagged_at,
    )
    card = cards.number_blocks(
        NumberOutcome(PHONE, FOUND, 1, tuple(found)),
        channel_id="C0WATCHED1",
        message_ts="1.000001",
        pii=True,
        budget=60,
        index=0,
    )
    tokens = _bot_tokens([claimer, resolver, flagger], [claimed_at, resolved_at, flagged_at])
    assert_blocks_inert(cards.reply_blocks(item, card), tokens)


@PROPERTY
@given(profiles, st.one_of(st.none(), text))
def test_the_correction_form(record, channel):
    view = modal.correction_modal(record, PHONE, channel)
    assert_blocks_inert(view["blocks"])
    shown = modal.shown_values(record)
    for block in view["blocks"]:
        if block["type"] == "input":  # a plain input: the record's value as it is, so that unchanged means unchanged
            name = modal.block_id_field(block["block_id"])
            assert block["element"].get("initial_value", "") == shown[name]


@PROPERTY
@given(
    text,
    st.lists(
        st.fixed_dictionaries({"ts": moment, "phone": st.one_of(st.just(PHONE), text), "outcome": text}), max_size=4
    ),
)
def test_app_home(api_error, recent):
    """The API's error and the audit log's outcomes and numbers, on the person's own App Home."""
    status = {"api_ok": False, "api_error": api_error, "key_ok": False, "cache": 3}
    assert_blocks_inert(blocks.home_view(status, recent))
    assert_blocks_inert(blocks.refused_home_view(messages.refusal(Refusal.USER)))


# -- every sentence that carries a record's or a person's words ------------------------------------

_ERROR_CLASSES = [errors.NextCallerError, errors.InvalidPhoneError, errors.BadResponseError, errors.APIError]


@PROPERTY
@given(text, text, text, st.dictionaries(text, text, max_size=3), st.sampled_from(_ERROR_CLASSES))
def test_sentences_with_typed_or_api_text(a, b, c, changed, error_class):
    exc = error_class(a) if error_class is not errors.InvalidPhoneError else errors.InvalidPhoneError(a, value=b)
    exc.message = a  # whatever a core error may end up saying
    for sentence in (
        messages.bad_number(exc),
        messages.error_text(exc),
        messages.bad_email(exc),
        messages.needs_v21(a),
        messages.fraud_level(a, b, c),
        messages.no_record(a),
        messages.cannot_post(a),
        messages.changed_fields(changed),
        messages.correction_queued(a, changed),
        messages.correction_sent(a, changed),
        messages.correction_refused(a),
        messages.queued_correction_delivered(a),
        messages.queued_correction_refused(a, b),
    ):
        assert_inert(sentence)


@PROPERTY
@given(actor, moment)
def test_sentences_naming_who(user_id, at):
    tokens = _bot_tokens([user_id], [at])
    for sentence in (
        messages.mention(user_id),
        messages.claimed(user_id, at),
        messages.resolved(user_id, at),
        messages.flagged(user_id, at),
        messages.already_claimed(user_id, at),
        messages.not_your_claim(user_id),
        messages.already_done("resolved", user_id, at),
    ):
        assert_inert(sentence, tokens)


@pytest.mark.parametrize("markup", MARKUP)
def test_each_kind_of_markup_in_each_field_of_a_public_triage_card(markup):
    """The same, field by field, without chance: each field of a record alone holding each kind of markup."""
    fields = ("first_name", "last_name", "name", "email", "carrier", "fraud_threat", "line_type", "language")
    for name in fields:
        record = Profile(**{name: markup}, addresses=(Address(line1=markup, city=markup, state=markup),))
        for pii in (False, True):
            card = cards.number_blocks(
                NumberOutcome(PHONE, FOUND, 1, (record,)),
                channel_id="C1",
                message_ts="1.1",
                pii=pii,
                budget=60,
                index=0,
            )
            assert_blocks_inert(card)
        assert_blocks_inert(
            blocks.profile_cards([record], PHONE, redact=True, buttons=False, shared_by="U0ANA00001"),
            _bot_tokens(["U0ANA00001"]),
        )
