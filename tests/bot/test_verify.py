"""Verify caller (issue 26, part 3): the button on /caller cards and triage replies, the form, the private answer.

Signed HTTP to the real Bolt app, the fake Slack, the sandbox.  The comparison is the
core's (tests/core/test_verify.py); here: the form opens (valid Block Kit, nothing of
the record in it), a submission is answered privately with a verdict per field and an
overall one, a malformed ZIP is shown on the form with no lookup, and the audit log
holds the verdicts and never what was typed.
"""

from __future__ import annotations

import json

import pytest
from slack_sdk.models.views import View

from bot import blocks as bk
from bot import messages, modal
from bot.standin.payloads import block_actions, interaction_body, message_event, send_signed
from bot.triage import cards
from tests.support.botkit import AGENT, TRIAGE
from tests.support.common import wait_until
from tests.support.secrets import BOT_SIGNING_SECRET

pytestmark = pytest.mark.timeout(120)

JERRY = "2125558383"
WATCHED, UNWATCHED = "C0WATCHED1", "C0NOTWATCH"
TYPED = ("Jerry Kramer", "90210", "typed.secret@example.org", "77 Typed Road")


def opened_view(slack, count: int = 1) -> dict:
    calls = slack.wait_for(lambda cs: sum(c["name"] == "views.open" for c in cs) >= count)
    return [c for c in calls if c["name"] == "views.open"][-1]["args"]["view"]


def private_answers(slack, count: int = 1) -> list[dict]:
    calls = slack.wait_for(lambda cs: sum(c["name"] == "chat.postEphemeral" for c in cs) >= count)
    return [c["args"] for c in calls if c["name"] == "chat.postEphemeral"]


def typed(name="", zip_code="", email="", street="") -> dict[str, str]:
    return {"v_name": name, "v_zip": zip_code, "v_email": email, "v_street": street}


def test_caller_card_verify_opens_an_empty_valid_form_and_answers_privately_with_verdicts(bot, slack, sandbox):
    card = bot.card("(212) 555-8383")
    buttons = {e["action_id"]: e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert buttons[bk.ACTION_VERIFY]["text"]["text"] == "Verify caller"

    resp, _ = bot.click(bk.ACTION_VERIFY, buttons[bk.ACTION_VERIFY]["value"])
    assert resp.status_code == 200
    view = opened_view(slack)
    View(**view).validate_json()
    assert view["callback_id"] == modal.VERIFY_CALLBACK
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["v_name", "v_zip", "v_email", "v_street"]
    assert "Seinfeld" not in json.dumps(view) and "10024" not in json.dumps(view)  # nothing of the record
    requests = sandbox.httpd.request_count

    resp = bot.submit(view, typed("jerry SEINFELD", "10024", "Demo@NextCaller.com", "129 W 81st St"))
    assert resp.status_code == 200 and not resp.text  # closed: the answer follows privately
    (answer,) = private_answers(slack)
    assert answer["channel"] == TRIAGE and answer["user"] == AGENT
    assert answer["text"].splitlines() == [
        "*Verify caller (212) 555-8383: ✅ match*",
        "✅ Name: match",
        "✅ ZIP: match",
        "✅ Email: match",
        "✅ Street: match",
    ]
    assert sandbox.httpd.request_count == requests  # the card's lookup is in the cache
    (row,) = [
        e for e in bot.services.audit.entries() if e["action"] == "verify" and e["outcome"].startswith("verified")
    ]
    assert (row["user_id"], row["channel_id"], row["phone"], row["outcome"]) == (
        AGENT,
        TRIAGE,
        JERRY,
        "verified: match",
    )
    assert row["detail"] == "name=match zip=match email=match street=match"


def test_a_partial_answer_and_the_audit_keeps_no_typed_value(bot, slack):
    bot.card("2125558383")
    bot.click(bk.ACTION_VERIFY, json.dumps({"id": "x", "phone": JERRY, "i": 0}))
    view = opened_view(slack)
    bot.submit(view, typed(*TYPED))
    (answer,) = private_answers(slack)
    assert "🟡 partial" in answer["text"].splitlines()[0]
    assert "🟡 Name: partial" in answer["text"] and "❌ ZIP: no match" in answer["text"]
    assert "❌ Email: no match" in answer["text"] and "❌ Street: no match" in answer["text"]
    bot.drain()
    logged = json.dumps(bot.services.audit.entries())
    for value in (*TYPED, "Kramer", "typed.secret", "Typed Road"):
        assert value not in logged and value not in answer["text"]
    assert "name=partial zip=no_match email=no_match street=no_match" in logged


def test_a_malformed_zip_or_an_empty_form_is_shown_on_the_form_with_no_lookup(bot, slack, sandbox):
    bot.click(bk.ACTION_VERIFY, json.dumps({"id": "x", "phone": JERRY, "i": 0}))
    view = opened_view(slack)
    body = bot.submit(view, typed("Jerry Seinfeld", "1002")).json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["v_zip"]
    assert "5 digits" in body["errors"]["v_zip"]
    body = bot.submit(view, typed()).json()
    assert body == {"response_action": "errors", "errors": {"v_name": messages.VERIFY_NOTHING_GIVEN}}
    bot.drain()
    assert sandbox.httpd.request_count == 0 and not slack.calls("api", "chat.postEphemeral")
    assert not [e for e in bot.services.audit.entries() if e["action"] == "verify"]


def _triage_reply(bot, slack) -> tuple[str, str]:
    ts = slack.new_ts()
    bot.event(message_event(WATCHED, f"caller on line 2: {JERRY}", ts, user="U0CALLER01"))
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(WATCHED, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return ts, store.get(WATCHED, ts).reply_ts


def _press(bot, ts: str, reply_ts: str, channel: str) -> str:
    name, url = bot.response_url()
    payload = block_actions(
        cards.ACTION_VERIFY,
        cards.item_value(WATCHED, ts, JERRY),
        response_url=url,
        channel=channel,
        message_ts=reply_ts,
    )
    assert send_signed(bot.url, interaction_body(payload), BOT_SIGNING_SECRET).status_code == 200
    return name


def test_triage_reply_has_verify_caller_per_number_and_it_answers_in_the_channel_privately(make_bot, slack):
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    ts, reply_ts = _triage_reply(bot, slack)
    (reply,) = [c["args"] for c in slack.calls("api", "chat.postMessage") if c["args"].get("thread_ts") == ts]
    verify_buttons = [
        e
        for b in reply["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == cards.ACTION_VERIFY
    ]
    assert [(e["text"]["text"], json.loads(e["value"])["phone"]) for e in verify_buttons] == [("Verify caller", JERRY)]

    _press(bot, ts, reply_ts, WATCHED)
    view = opened_view(slack)
    assert json.loads(view["private_metadata"]) == {"phone": JERRY, "channel": WATCHED}
    bot.submit(view, typed("Jerry Seinfeld", "10024"))
    (answer,) = private_answers(slack)
    assert answer["channel"] == WATCHED and answer["text"].startswith("*Verify caller (212) 555-8383: ✅ match*")


def test_a_triage_verify_pressed_in_another_channel_is_refused_and_opens_nothing(make_bot, slack):
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    ts, reply_ts = _triage_reply(bot, slack)
    (told,) = bot.responses(_press(bot, ts, reply_ts, UNWATCHED))
    assert told["text"] == messages.TRIAGE_NOT_THIS_CHANNEL
    bot.drain()
    assert not slack.calls("api", "views.open")
    refused = [(e["channel_id"], e["outcome"]) for e in bot.services.audit.entries() if e["action"] == "verify"]
    assert refused == [(UNWATCHED, "refused: not this channel's item")]
