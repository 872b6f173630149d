"""Issue 11 (bot): one gate for every interactive path, escaped Slack text, silent share failures, Slack retries.

Everything over signed HTTP to the running bot, with the local fake Slack and the sandbox.
"""

from __future__ import annotations

import json
import time

import pytest

from bot import blocks as bk
from bot import messages, modal
from bot.policy import Policy, Refusal
from nextcaller_ops.api.models import Profile
from tests.support.botkit import AGENT
from tests.support.common import SEINFELD_ID

pytestmark = pytest.mark.timeout(60)

STRANGER = "U0STRANGER"
SEINFELD_BUTTON = json.dumps({"id": SEINFELD_ID, "phone": "2125558383"})
REFUSED_USER = messages.refusal(Refusal.USER)


@pytest.fixture
def guarded(make_bot):
    return make_bot(allowed_users=frozenset({AGENT}))


def refusals(bot) -> list[tuple[str | None, str, str]]:
    return [
        (e["user_id"], e["action"], e["outcome"]) for e in bot.services.audit.entries() if "refused" in e["outcome"]
    ]


def test_a_command_from_outside_the_allowlist_is_refused_in_its_ack_whatever_was_typed(guarded, sandbox):
    for text in ("2125558383", "not even a number", "watch on"):
        resp, _ = guarded.command(text, user=STRANGER)
        assert resp.json() == {"response_type": "ephemeral", "text": REFUSED_USER}
    assert sandbox.httpd.request_count == 0
    assert refusals(guarded) == [
        (STRANGER, "lookup", "refused: policy"),
        (STRANGER, "lookup", "refused: policy"),
        (STRANGER, "watch", "refused: policy"),
    ]


@pytest.mark.parametrize(
    ("action_id", "audited_as"),
    [(bk.ACTION_SHARE, "share"), (bk.ACTION_SUGGEST, "suggest"), (bk.ACTION_REFRESH, "refresh")],
)
def test_every_card_button_is_refused_privately_and_audited(guarded, sandbox, slack, action_id, audited_as):
    resp, name = guarded.click(action_id, SEINFELD_BUTTON, user=STRANGER)
    assert resp.status_code == 200 and resp.text == ""
    (told,) = guarded.responses(name)
    assert told["response_type"] == "ephemeral" and told["text"] == REFUSED_USER
    guarded.drain()
    assert sandbox.httpd.request_count == 0
    assert not slack.calls("api", "chat.postMessage") and not slack.calls("api", "views.open")
    (entry,) = [e for e in guarded.services.audit.entries() if e["user_id"] == STRANGER]
    assert (entry["action"], entry["outcome"], entry["phone"]) == (audited_as, "refused: policy", "2125558383")


def test_a_button_in_a_channel_that_is_not_enabled_is_refused(make_bot, sandbox):
    bot = make_bot(allowed_channels=frozenset({"C0OTHER001"}))
    _resp, name = bot.click(bk.ACTION_SHARE, SEINFELD_BUTTON)
    assert bot.responses(name)[0]["text"] == messages.refusal(Refusal.CHANNEL)
    assert refusals(bot) == [(AGENT, "share", "refused: policy")]


def open_modal(bot, slack) -> dict:
    bot.card("2125558383")
    bot.click(bk.ACTION_SUGGEST, SEINFELD_BUTTON)
    calls = slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
    return [c for c in calls if c["name"] == "views.open"][-1]["args"]["view"]


def test_a_submission_from_someone_removed_while_the_form_was_open_is_refused_on_the_form(bot, slack, sandbox):
    view = open_modal(bot, slack)
    bot.services.policy = Policy(allowed_users=frozenset({"U0SOMEONE9"}))  # the admin took the agent off the list
    resp = bot.submit(view, {modal.field_block_id("email"): "jerry@example.com"})
    body = resp.json()
    assert body == {"response_action": "errors", "errors": {modal.field_block_id("first_name"): REFUSED_USER}}
    bot.drain()
    assert not sandbox.store.corrections() and bot.services.outbox.counts()["pending"] == 0
    assert refusals(bot) == [(AGENT, "correction", "refused: policy")]


def test_the_message_shortcut_is_refused_once_not_per_number(guarded, sandbox):
    resp, name = guarded.shortcut("calls from 212-555-8383 and 312-555-0142", user=STRANGER)
    assert resp.status_code == 200
    assert [r["text"] for r in guarded.responses(name)] == [REFUSED_USER]
    guarded.drain()
    assert len(guarded.slack.calls("response", name)) == 1 and sandbox.httpd.request_count == 0
    assert refusals(guarded) == [(STRANGER, "lookup", "refused: policy")]


def test_app_home_for_someone_outside_the_allowlist_shows_only_the_refusal(guarded, slack):
    guarded.card("2125558383")  # the agent's lookups must not show up for anyone else
    guarded.event({"type": "app_home_opened", "user": STRANGER, "channel": "D0DM", "tab": "home"})
    calls = slack.wait_for(lambda cs: any(c["name"] == "views.publish" for c in cs))
    published = next(c for c in calls if c["name"] == "views.publish")["args"]
    text = json.dumps(published["view"])
    assert published["user_id"] == STRANGER and "approved agents" in text and "212" not in text
    assert refusals(guarded) == [(STRANGER, "app_home_opened", "refused: policy")]


# -- escaping: record and user text never pings or links -------------------------------------


HOSTILE = "<!channel> <https://evil.example|click> & co"


def test_record_text_is_escaped_in_the_notification_text_too():
    text = bk.card_text([Profile(id="x", name=HOSTILE)], "2125558383")
    assert "<" not in text and ">" not in text and "&lt;!channel&gt;" in text


def test_escaping_reaches_every_sentence_with_record_or_user_text():
    sentences = [
        messages.changed_fields({"first_name": HOSTILE}),
        messages.correction_sent(HOSTILE, {"email": HOSTILE}),
        messages.correction_refused(HOSTILE),
        messages.queued_correction_delivered(HOSTILE),
        messages.queued_correction_refused(HOSTILE, HOSTILE),
        messages.correction_queued(HOSTILE, {"email": HOSTILE}),
        messages.cannot_post(HOSTILE),
        messages.mention(HOSTILE),
    ]
    for sentence in sentences:
        assert "<!" not in sentence and "<http" not in sentence, sentence
    assert messages.mention("U0AGENT001") == "<@U0AGENT001>"


def test_a_shared_card_of_a_hostile_record_pings_nobody(bot, slack, sandbox):
    sandbox.store.update(SEINFELD_ID, {"first_name": "<!channel>", "last_name": "<https://evil|click>"}, time.time())
    bot.click(bk.ACTION_SHARE, SEINFELD_BUTTON)
    calls = slack.wait_for(lambda cs: any(c["name"] == "chat.postMessage" for c in cs))
    posted = next(c for c in calls if c["name"] == "chat.postMessage")["args"]
    assert "<!channel>" not in posted["text"] and "<https://evil" not in posted["text"]
    assert "&lt;!channel&gt;" in posted["text"]


# -- sharing where the bot can't post ----------------------------------------------------------


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_share_where_the_bot_cannot_post_tells_the_agent_to_invite_it_and_is_audited(bot, slack, error):
    slack.fail_methods["chat.postMessage"] = error
    resp, name = bot.click(bk.ACTION_SHARE, SEINFELD_BUTTON)
    assert resp.status_code == 200
    (told,) = bot.responses(name)
    assert told["response_type"] == "ephemeral" and "/invite @nextcaller" in told["text"] and error in told["text"]
    bot.drain()
    (entry,) = [e for e in bot.services.audit.entries() if e["action"] == "share"]
    assert (entry["user_id"], entry["outcome"]) == (AGENT, f"failed: {error}")


# -- a Slack event delivered again is handled once ----------------------------------------------


def test_a_retried_event_is_handled_once(bot, slack):
    event = {"type": "app_home_opened", "user": AGENT, "channel": "D0DM", "tab": "home"}
    assert bot.event(event, event_id="Ev0SAME0001").status_code == 200
    assert bot.event(event, event_id="Ev0SAME0001", retry=1).status_code == 200
    assert bot.event(event, event_id="Ev0SAME0001", retry=2).status_code == 200
    bot.drain()
    assert len(slack.calls("api", "views.publish")) == 1


def test_a_retry_reaching_another_process_is_handled_once(make_bot, slack, tmp_path):
    first, second = make_bot(data_dir=tmp_path / "one"), make_bot(data_dir=tmp_path / "one")
    event = {"type": "app_home_opened", "user": AGENT, "channel": "D0DM", "tab": "home"}
    first.event(event, event_id="Ev0SAME0002")
    second.event(event, event_id="Ev0SAME0002", retry=1)
    first.drain()
    second.drain()
    assert len(slack.calls("api", "views.publish")) == 1
