"""A triage button acts only on the item of the reply it sits on (issue 20, defect 1).

A button's value names the item (channel + message ts, and a number for the
per-number buttons), but the value is the payload's word; where the button was
pressed is Slack's.  A press whose value names another channel's item, or that was
pressed on any message other than that item's reply, is refused privately and
audited with the channel where it was pressed: the store, the reply and the API
are left alone.  Signed HTTP to the real Bolt app, the fake Slack, the sandbox.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from bot import blocks as bk
from bot import messages
from bot.standin.payloads import block_actions, interaction_body, message_event, send_signed
from bot.triage import cards
from tests.support.botkit import AGENT, TRIAGE
from tests.support.common import wait_until
from tests.support.secrets import BOT_SIGNING_SECRET

pytestmark = pytest.mark.timeout(90)

WATCHED, UNWATCHED = "C0WATCHED1", "C0NOTWATCH"
JERRY, RIVERA = "2125558383", "3125550142"
REFUSED_CHANNEL = "refused: not this channel's item"
REFUSED_REPLY = "refused: not this item's reply"

# every triage button, by its audit name
BUTTONS = [
    (cards.ACTION_CLAIM, "claim"),
    (cards.ACTION_RELEASE, "release"),
    (cards.ACTION_RESOLVE, "resolve"),
    (cards.ACTION_FLAG, "flag_fraud"),
    (cards.ACTION_LOOKUP, "triage_lookup"),
    (cards.ACTION_FULL_CARD, "triage_card"),
]
PER_NUMBER = (cards.ACTION_LOOKUP, cards.ACTION_FULL_CARD)


class Channel:
    """A watched channel with two items: Jerry's, looked up, and Rivera's, paused by the channel's budget."""

    def __init__(self, bot, slack, *, items: bool = True):
        self.bot, self.slack = bot, slack
        if not items:
            return
        self.jerry = self._post(f"call from {JERRY}")
        self.rivera = self._post(f"call from {RIVERA}")  # the budget (1 a minute) is spent: paused, not fetched
        assert "Lookups are paused" in str(self.item(self.rivera).cards)

    def _post(self, text: str) -> str:
        ts = self.slack.new_ts()
        resp = self.bot.event(message_event(WATCHED, text, ts, user="U0CALLER01"))
        assert resp.status_code == 200
        self.slack.wait_for(
            lambda cs: any(c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == ts for c in cs)
        )
        # the reply is posted, then its ts saved, then the attempt finished (counted, lease released): a test
        # comparing the item before and after a press must not see the first run's own last write
        wait_until(lambda: self.item(ts).reply_ts and self.item(ts).attempts > 0, what="the first attempt finished")
        return ts

    def item(self, ts: str):
        return self.bot.services.triage.store.get(WATCHED, ts)

    def reply(self, ts: str) -> str:
        return self.item(ts).reply_ts

    def value(self, action_id: str, ts: str) -> str:
        phone = (JERRY if ts == self.jerry else RIVERA) if action_id in PER_NUMBER else None
        return cards.item_value(WATCHED, ts, phone)

    def press(self, action_id: str, value: str, *, channel: str, message_ts: str | None, user: str = AGENT) -> str:
        """A signed block_actions press; returns the name of its response_url."""
        name, url = self.bot.response_url()
        payload = block_actions(action_id, value, response_url=url, user=user, channel=channel, message_ts=message_ts)
        resp = send_signed(self.bot.url, interaction_body(payload), BOT_SIGNING_SECRET)
        assert resp.status_code == 200 and resp.text == ""
        return name

    def updates(self) -> int:
        return len(self.slack.calls("api", "chat.update"))

    def wait_updates(self, count: int) -> None:
        self.slack.wait_for(lambda cs: sum(c["name"] == "chat.update" for c in cs) >= count)

    def audit(self, action: str | None = None) -> list[tuple]:
        """What AGENT did, as the audit log has it: (action, channel, outcome), or (user, channel, outcome)."""
        rows = [e for e in self.bot.services.audit.entries() if e["user_id"] == AGENT]
        if action is None:
            return [(e["action"], e["channel_id"], e["outcome"]) for e in rows]
        return [(e["user_id"], e["channel_id"], e["outcome"]) for e in rows if e["action"] == action]


@pytest.fixture
def channel(make_bot, slack):
    bot = make_bot(watch_lookups_per_minute=1, watch_channels=frozenset({WATCHED}))
    return Channel(bot, slack)


def _prepare(channel: Channel, action_id: str) -> None:
    """Release needs a claim to undo: AGENT claims Rivera's item for real first."""
    if action_id == cards.ACTION_RELEASE:
        before = channel.updates()
        channel.press(
            cards.ACTION_CLAIM,
            channel.value(cards.ACTION_CLAIM, channel.rivera),
            channel=WATCHED,
            message_ts=channel.reply(channel.rivera),
        )
        channel.wait_updates(before + 1)
        assert channel.item(channel.rivera).claimed_by == AGENT


def _refused_and_untouched(channel: Channel, name: str, sentence: str, *, before, updates: int, requests: int, sandbox):
    (told,) = channel.bot.responses(
        name,
    )
    assert told["response_type"] == "ephemeral" and told["replace_original"] is False
    assert told["text"] == sentence and not told.get("blocks")
    channel.bot.drain()  # every listener has finished: what did not happen, did not
    assert channel.item(channel.rivera) == before
    assert channel.updates() == updates
    assert sandbox.httpd.request_count == requests


@pytest.mark.parametrize(("action_id", "audit_name"), BUTTONS)
def test_a_press_in_another_channel_carrying_this_channels_item_is_refused(channel, sandbox, action_id, audit_name):
    _prepare(channel, action_id)
    before, updates, requests = channel.item(channel.rivera), channel.updates(), sandbox.httpd.request_count
    audited = channel.audit()

    # forged: pressed in a channel nobody watches, on a message that has the genuine reply's ts
    name = channel.press(
        action_id, channel.value(action_id, channel.rivera), channel=UNWATCHED, message_ts=channel.reply(channel.rivera)
    )

    _refused_and_untouched(
        channel,
        name,
        messages.TRIAGE_NOT_THIS_CHANNEL,
        before=before,
        updates=updates,
        requests=requests,
        sandbox=sandbox,
    )
    assert channel.audit() == [*audited, (audit_name, UNWATCHED, REFUSED_CHANNEL)]  # and nothing else


@pytest.mark.parametrize("pressed_on", ["another item's reply", "the message itself", "an ephemeral message"])
@pytest.mark.parametrize(("action_id", "audit_name"), BUTTONS)
def test_a_press_on_another_message_in_the_right_channel_is_refused(
    channel, sandbox, action_id, audit_name, pressed_on
):
    _prepare(channel, action_id)
    before, updates, requests = channel.item(channel.rivera), channel.updates(), sandbox.httpd.request_count
    audited = channel.audit()
    message_ts = {
        "another item's reply": channel.reply(channel.jerry),
        "the message itself": channel.rivera,
        "an ephemeral message": None,
    }[pressed_on]

    name = channel.press(action_id, channel.value(action_id, channel.rivera), channel=WATCHED, message_ts=message_ts)

    _refused_and_untouched(
        channel,
        name,
        messages.TRIAGE_NOT_THIS_REPLY,
        before=before,
        updates=updates,
        requests=requests,
        sandbox=sandbox,
    )
    assert channel.audit() == [*audited, (audit_name, WATCHED, REFUSED_REPLY)]


def test_a_number_that_is_not_the_items_is_refused_on_its_reply(channel, sandbox):
    """Show full card and Look up carry a number: it must be one the item holds."""
    requests = sandbox.httpd.request_count
    for action_id, audit_name in ((cards.ACTION_FULL_CARD, "triage_card"), (cards.ACTION_LOOKUP, "triage_lookup")):
        value = cards.item_value(WATCHED, channel.rivera, "2025550999")
        name = channel.press(action_id, value, channel=WATCHED, message_ts=channel.reply(channel.rivera))
        (told,) = channel.bot.responses(
            name,
        )
        assert told["text"] == messages.TRIAGE_NOT_THIS_REPLY
        assert channel.audit(audit_name) == [(AGENT, WATCHED, REFUSED_REPLY)]
    channel.bot.drain()
    assert sandbox.httpd.request_count == requests and channel.updates() == 0


def test_the_genuine_presses_still_work(channel, sandbox):
    jerry_reply, rivera_reply = channel.reply(channel.jerry), channel.reply(channel.rivera)

    name = channel.press(
        cards.ACTION_FULL_CARD,
        channel.value(cards.ACTION_FULL_CARD, channel.jerry),
        channel=WATCHED,
        message_ts=jerry_reply,
    )
    (card,) = channel.bot.responses(name)
    assert card["response_type"] == "ephemeral" and card["blocks"][0]["text"]["text"] == "Jerry Seinfeld"

    requests = sandbox.httpd.request_count
    channel.press(
        cards.ACTION_LOOKUP,
        channel.value(cards.ACTION_LOOKUP, channel.rivera),
        channel=WATCHED,
        message_ts=rivera_reply,
    )
    channel.wait_updates(1)
    assert "Lookups are paused" not in str(channel.item(channel.rivera).cards)
    assert sandbox.httpd.request_count == requests + 1

    for count, action_id in enumerate(
        (cards.ACTION_CLAIM, cards.ACTION_RELEASE, cards.ACTION_FLAG, cards.ACTION_RESOLVE), start=2
    ):
        channel.press(action_id, channel.value(action_id, channel.jerry), channel=WATCHED, message_ts=jerry_reply)
        channel.wait_updates(count)
    item = channel.item(channel.jerry)
    assert item.claimed_by is None and item.flagged_by == AGENT and item.resolved_by == AGENT
    assert all(c["args"]["channel"] == WATCHED for c in channel.slack.calls("api", "chat.update"))
    assert [c["args"]["ts"] for c in channel.slack.calls("api", "chat.update")] == [rivera_reply] + [jerry_reply] * 4
    channel.bot.drain()
    assert [(a, o) for a in ("claim", "release", "flag_fraud", "resolve") for (_u, _c, o) in channel.audit(a)] == [
        ("claim", "done"),
        ("release", "done"),
        ("flag_fraud", "done"),
        ("resolve", "done"),
    ]


def test_a_press_that_arrives_before_the_replys_ts_is_stored_waits_for_it(channel, monkeypatch):
    """Slack showed the reply, the bot has not saved its ts yet: the genuine press is not refused."""
    store = channel.bot.services.triage.store
    real_get, hidden = store.get, threading.Event()
    hidden.set()

    def get(channel_id: str, message_ts: str):
        item = real_get(channel_id, message_ts)
        return replace(item, reply_ts=None) if item is not None and hidden.is_set() else item

    monkeypatch.setattr(store, "get", get)
    threading.Timer(0.5, hidden.clear).start()  # the ts is saved half a second after the press
    reply = real_get(WATCHED, channel.jerry).reply_ts
    channel.press(cards.ACTION_CLAIM, cards.item_value(WATCHED, channel.jerry), channel=WATCHED, message_ts=reply)
    channel.wait_updates(1)
    channel.bot.drain()
    assert real_get(WATCHED, channel.jerry).claimed_by == AGENT
    assert channel.audit() == [("claim", WATCHED, "done")]


def test_a_press_on_an_item_whose_reply_was_never_posted_is_refused(make_bot, slack, sandbox):
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    slack.fail_methods["chat.postMessage"] = "ratelimited"  # the reply is not posted (retried later)
    ts = slack.new_ts()
    assert bot.event(message_event(WATCHED, f"call from {JERRY}", ts, user="U0CALLER01")).status_code == 200
    slack.wait_for(lambda cs: any(c["name"] == "chat.postMessage" for c in cs))
    channel = Channel(bot, slack, items=False)
    # the failed attempt is recorded
    wait_until(lambda: (item := channel.item(ts)) is not None and item.attempts > 0, what="the failed attempt recorded")

    name = channel.press(cards.ACTION_CLAIM, cards.item_value(WATCHED, ts), channel=WATCHED, message_ts=slack.new_ts())
    (told,) = bot.responses(
        name,
    )
    assert told["text"] == messages.TRIAGE_REPLY_PENDING and told["response_type"] == "ephemeral"
    bot.drain()
    assert channel.item(ts).claimed_by is None and not slack.calls("api", "chat.update")
    assert channel.audit() == [("claim", WATCHED, "refused: reply not posted yet")]


# -- the same class on the private card's buttons: Share and Suggest take the number from the value --------


def _card_press(bot, action_id: str, value: str) -> str:
    """A press on the private card /caller answered with (an ephemeral message in TRIAGE)."""
    resp, name = bot.click(action_id, value)
    assert resp.status_code == 200
    return name


def _rivera_button(sandbox) -> str:
    """A card button's value for a number this bot never looked up (its id read with a client of its own)."""
    from tests.support.botkit import sandbox_client

    client = sandbox_client(sandbox)
    try:
        profile_id = client.lookup(RIVERA).profiles[0].id
    finally:
        client.close()
    return json.dumps({"id": profile_id, "phone": RIVERA})


@pytest.mark.parametrize("action_id", [bk.ACTION_SHARE, bk.ACTION_SUGGEST])
def test_share_and_suggest_for_a_number_not_looked_up_count_on_the_presser_s_limit(make_bot, slack, sandbox, action_id):
    bot = make_bot(lookups_per_minute=1)
    forged = _rivera_button(sandbox)
    bot.card(JERRY)  # the one lookup this minute
    requests = sandbox.httpd.request_count

    (told,) = bot.responses(_card_press(bot, action_id, forged))
    assert told["response_type"] == "ephemeral" and "1 lookups a minute" in told["text"]
    bot.drain()
    assert sandbox.httpd.request_count == requests  # the API was not asked
    assert not slack.calls("api", "chat.postMessage") and not slack.calls("api", "views.open")
    refused = [(e["action"], e["phone"], e["outcome"]) for e in bot.services.audit.entries() if e["phone"] == RIVERA]
    assert refused == [
        ({bk.ACTION_SHARE: "share", bk.ACTION_SUGGEST: "suggest"}[action_id], RIVERA, "refused: rate limit")
    ]


def test_share_and_suggest_of_the_card_just_shown_are_not_counted_again(make_bot, slack, sandbox):
    bot = make_bot(lookups_per_minute=1)
    card = bot.card(JERRY)
    value = next(e["value"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"])
    bot.responses(_card_press(bot, bk.ACTION_SHARE, value))
    _card_press(bot, bk.ACTION_SUGGEST, value)
    slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
    assert len(slack.calls("api", "chat.postMessage")) == 1 and sandbox.httpd.request_count == 1


def test_a_correction_form_opened_is_audited_with_the_number_it_shows(bot, slack, sandbox):
    """The form shows the whole record: whoever opens it is in the audit log, as for a lookup."""
    _card_press(bot, bk.ACTION_SUGGEST, _rivera_button(sandbox))
    slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
    bot.drain()
    opened = [(e["user_id"], e["channel_id"], e["action"], e["phone"]) for e in bot.services.audit.entries()]
    assert opened == [(AGENT, TRIAGE, "suggest", RIVERA)]


def test_a_redraw_from_a_read_older_than_a_claim_is_drawn_again(channel):
    """A worker drew the reply from a read taken just before a Claim, and its update reached Slack after the
    Claim's: the reply must not be left showing the item unclaimed."""
    triage = channel.bot.services.triage
    stale = channel.item(channel.jerry)  # read before the claim
    before = channel.updates()
    channel.press(
        cards.ACTION_CLAIM,
        channel.value(cards.ACTION_CLAIM, channel.jerry),
        channel=WATCHED,
        message_ts=channel.reply(channel.jerry),
    )
    channel.wait_updates(before + 1)
    channel.bot.drain()
    assert channel.item(channel.jerry).claimed_by == AGENT

    triage._update(replace(stale, shown_digest=None))  # the late, stale re-draw

    last = channel.slack.calls("api", "chat.update")[-1]["args"]
    assert AGENT in json.dumps(last.get("blocks")), "the reply was left showing the item unclaimed"
