"""The team's memory across channels (issue 26, part 4): a fraud flag in one channel shows on the number's
cards in every other channel and on /caller cards; "seen N times" counts every watched channel.

Signed HTTP to the real Bolt app, the fake Slack, the sandbox; the triage clock moved on for "3 d ago".
"""

from __future__ import annotations

import json

import pytest

from bot.standin.payloads import block_actions, interaction_body, message_event, send_signed
from bot.triage import cards
from tests.support.common import wait_until
from tests.support.secrets import BOT_SIGNING_SECRET

pytestmark = pytest.mark.timeout(120)

PAY, SUP = "C0PAYMENT1", "C0SUPPORT1"
JERRY, ANA = "2125558383", "U0ANA00001"


@pytest.fixture
def tbot(make_bot):
    return make_bot(watch_channels=frozenset({PAY, SUP}))


def post(bot, channel: str, text: str) -> str:
    ts = bot.slack.new_ts()
    assert bot.event(message_event(channel, text, ts, user="U0CALLER01")).status_code == 200
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(channel, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return ts


def reply_text(bot, channel: str, ts: str) -> str:
    (reply,) = [c["args"] for c in bot.slack.calls("api", "chat.postMessage") if c["args"].get("thread_ts") == ts]
    return json.dumps(reply["blocks"], ensure_ascii=False)


def flag(bot, channel: str, ts: str, user: str) -> None:
    item = bot.services.triage.store.get(channel, ts)
    _, url = bot.response_url()
    payload = block_actions(
        cards.ACTION_FLAG,
        cards.item_value(channel, ts),
        response_url=url,
        user=user,
        channel=channel,
        message_ts=item.reply_ts,
    )
    assert send_signed(bot.url, interaction_body(payload), BOT_SIGNING_SECRET).status_code == 200
    wait_until(lambda: bot.services.triage.store.get(channel, ts).flagged_at, what="flagged")


def test_a_flag_in_one_channel_shows_on_the_numbers_card_in_another_and_on_caller_cards(tbot):
    paid = post(tbot, PAY, f"chargeback from {JERRY}")
    assert "flagged as fraud" not in reply_text(tbot, PAY, paid)
    flag(tbot, PAY, paid, ANA)

    triage = tbot.services.triage
    later = triage.now() + 3 * 86400 + 60
    triage._clock = lambda: later  # three days on
    support = post(tbot, SUP, f"he is calling support now: {JERRY}")
    shown = reply_text(tbot, SUP, support)
    assert f"🚩 flagged as fraud in <#{PAY}> 3 d ago by <@{ANA}>" in shown
    assert "first time seen in this channel in the last 24 h" in shown  # the payments message was 3 days ago

    card = tbot.card(JERRY)
    (memory,) = [b for b in card["blocks"] if b.get("block_id") == "nc_memory"]
    assert card["blocks"][0]["block_id"] == "nc_memory"  # on top of the card
    assert f"🚩 flagged as fraud in <#{PAY}> 3 d ago by <@{ANA}>" in memory["elements"][0]["text"]


def test_seen_counts_across_watched_channels_with_the_count_per_channel(tbot):
    post(tbot, PAY, f"call from {JERRY}")
    post(tbot, PAY, f"again {JERRY}")
    support = post(tbot, SUP, f"now here {JERRY}")
    shown = reply_text(tbot, SUP, support)
    assert f"🔁 seen 3 times in watched channels in the last 24 h (1 here, 2 in <#{PAY}>)" in shown
    card = tbot.card(JERRY)  # a /caller card shows flags only: seen but not flagged, it is as before
    assert card["blocks"][0]["text"]["text"] == "Jerry Seinfeld"
    assert not [b for b in card["blocks"] if b.get("block_id") == "nc_memory"]


@pytest.fixture(params=["sqlite", "postgresql"])
def triage_store(request, tmp_path):
    from nextcaller_ops.stores import open_stores

    url = request.getfixturevalue("pg_schema").url if request.param == "postgresql" else None
    stores = open_stores(tmp_path / "stores", database_url=url)
    yield stores.triage
    stores.close()


def test_store_flags_of_and_seen_by_channel_on_both_backends(triage_store):
    from nextcaller_ops.stores import TriageItem
    from nextcaller_ops.stores.base import FLAG

    store, t0 = triage_store, 1_800_000_000.0
    for channel, ts, numbers, at in ((PAY, "1.1", [JERRY], t0), (SUP, "2.2", [JERRY, "3125550142"], t0 + 10)):
        store.add(TriageItem(channel, ts, ts, "U1", numbers, at), lease_seconds=0)
        for n in numbers:
            store.sighted(channel, n, ts, at)
    store.act(PAY, "1.1", FLAG, ANA, t0 + 5)
    store.act(SUP, "2.2", FLAG, "U0BEN00001", t0 + 20)
    assert [(f.channel_id, f.flagged_by) for f in store.flags_of(JERRY, t0)] == [(SUP, "U0BEN00001"), (PAY, ANA)]
    assert [f.channel_id for f in store.flags_of("3125550142", t0)] == [SUP]
    assert [f.channel_id for f in store.flags_of(JERRY, t0 + 6)] == [SUP]
    assert store.seen_by_channel(JERRY, t0) == {PAY: 1, SUP: 1}
    assert store.seen_by_channel(JERRY, t0 + 1) == {SUP: 1}
