"""App Home as the triage board (issue 26, part 7): open items across watched channels oldest first with links,
the viewer's claims, repeat callers of the last 7 days across channels, recent fraud flags, snoozes in force;
valid Block Kit within Slack's limits (≤ 100 blocks, each text ≤ 3,000 characters) however much there is.
"""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot import messages
from bot.standin.payloads import message_event
from nextcaller_ops.stores import TriageItem
from tests.support.botkit import AGENT
from tests.support.common import wait_until

pytestmark = pytest.mark.timeout(120)

PAY, SUP = "C0PAYMENT1", "C0SUPPORT1"
JERRY, RIVERA, BEN = "2125558383", "3125550142", "U0BEN00001"


def post(bot, channel: str, text: str) -> str:
    ts = bot.slack.new_ts()
    assert bot.event(message_event(channel, text, ts, user="U0CALLER01")).status_code == 200
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(channel, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return ts


def open_home(bot, user: str = AGENT) -> dict:
    before = len(bot.slack.calls("api", "views.publish"))
    resp = bot.event({"type": "app_home_opened", "user": user, "channel": "D0DM", "tab": "home", "event_ts": "1.0"})
    assert resp.status_code == 200
    calls = bot.slack.wait_for(lambda cs: sum(c["name"] == "views.publish" for c in cs) > before)
    view = [c for c in calls if c["name"] == "views.publish"][-1]["args"]["view"]
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        assert len((block.get("text") or {}).get("text", "")) <= 3000
    return view


def block(view: dict, block_id: str) -> str:
    (found,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return found["text"]["text"]


def test_the_board_shows_open_items_claims_repeat_callers_flags_and_snoozes(make_bot):
    bot = make_bot(watch_channels=frozenset({PAY, SUP}), watch_lookups_per_minute=100)
    first = post(bot, PAY, f"call from {JERRY}")
    second = post(bot, SUP, f"call from {RIVERA}")
    third = post(bot, SUP, f"again {JERRY}")
    store, now = bot.services.triage.store, bot.services.triage.now()
    store.act(SUP, second, "claim", AGENT, now)
    store.act(PAY, first, "flag", BEN, now)
    store.snooze(SUP, third, BEN, now, now + 3600)

    view = open_home(bot)
    opened = block(view, "board_open")
    assert "3 open item(s) in 2 watched channel(s)" in opened
    links = [
        f"https://slack.com/archives/{c}/p{ts.replace('.', '')}"
        for c, ts in ((PAY, first), (SUP, second), (SUP, third))
    ]
    assert [opened.index(link) for link in links] == sorted(opened.index(link) for link in links)  # oldest first
    mine = block(view, "board_mine")
    assert links[1] in mine and links[0] not in mine
    assert "(212) 555-8383 ×2" in block(view, "board_repeat")  # once in each channel: a repeat across channels
    assert f"in <#{PAY}>" in block(view, "board_flags") and f"by <@{BEN}>" in block(view, "board_flags")
    assert f"(212) 555-8383 in <#{SUP}> by <@{BEN}> until <!date^" in block(view, "board_snoozes")
    assert block(open_home(bot, BEN), "board_mine") == messages.BOARD_NOTHING_MINE  # the viewer's own only


def test_a_thousand_open_items_stay_within_slacks_limits(make_bot):
    bot = make_bot(watch_channels=frozenset({PAY, SUP}))
    store, now = bot.services.triage.store, bot.services.triage.now()
    for i in range(1000):
        channel = PAY if i % 2 else SUP
        ts = f"{now - 3600 + i:.6f}"
        store.add(TriageItem(channel, ts, ts, "U1", [f"212555{i:04d}"], now - 3600 + i), lease_seconds=0)
        store.sighted(channel, f"212555{i:04d}", ts, now - 3600 + i)
        store.sighted(channel, f"212555{i:04d}", ts + "1", now - 3600 + i)
        store.act(channel, ts, "claim", AGENT, now)
        store.act(channel, ts, "flag", BEN, now)
        store.snooze(channel, ts, BEN, now, now + 3600)
    view = open_home(bot)  # valid, ≤ 100 blocks, every text ≤ 3,000 (checked in open_home)
    assert "1000 open item(s)" in block(view, "board_open") and "more." in block(view, "board_open")
    assert "more." in block(view, "board_mine")


def test_without_watched_channels_the_board_says_how_to_start(bot):
    view = open_home(bot)
    assert "/caller watch on" in block(view, "board_none")
