"""Triage channels (issue 13): signed event_callback deliveries to the running bot, the fake Slack, the sandbox."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from bot import messages
from bot.listeners.commands.triage import MAX_LISTED
from bot.policy import Refusal
from bot.standin.payloads import message_event
from bot.standin.web_api import BOT_ID, BOT_USER_ID
from bot.triage import cards
from tests.support.botkit import AGENT
from tests.support.common import PATIENCE, wait_until

WATCHED, OTHER, CLEARED = "C0WATCHED1", "C0NOTWATCH", "C0PIICLEAR"
ADMIN, ANA, BEN = "U0ADMIN001", "U0ANA00001", "U0BEN00001"
PHONE_SYSTEM = "B0PHONESYS"  # another app posting missed calls


@pytest.fixture
def triage_bot(make_bot):
    return make_bot(
        watch_channels=frozenset({WATCHED, CLEARED}), admins=frozenset({ADMIN}), pii_channels=frozenset({CLEARED})
    )


def post(bot, text: str, *, channel: str = WATCHED, event_id: str | None = None, retry: int = 0, **kw) -> str:
    """A message in ``channel`` as Slack delivers it to the bot; returns its ts."""
    ts = kw.pop("ts", None) or bot.slack.new_ts()
    kw.setdefault("user", None if "bot_id" in kw else "U0CALLER01")
    resp = bot.event(message_event(channel, text, ts, **kw), event_id=event_id, retry=retry)
    assert resp.status_code == 200
    return ts


def replies(slack, thread_ts: str | None = None) -> list[dict]:
    return [
        {**c["args"], "ts": c["ts"]}
        for c in slack.calls("api", "chat.postMessage")
        if thread_ts is None or c["args"].get("thread_ts") == thread_ts
    ]


def reply_to(slack, thread_ts: str) -> dict:
    slack.wait_for(
        lambda cs: any(c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == thread_ts for c in cs)
    )
    (reply,) = replies(slack, thread_ts)
    return reply


def text_of(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def press(bot, action_id: str, value: str, *, user: str = AGENT, channel: str = WATCHED):
    """Pressed on the item's own reply, as Slack sends it (a press on any other message is refused)."""
    from bot.standin.payloads import block_actions, interaction_body, send_signed
    from tests.support.secrets import BOT_SIGNING_SECRET

    item = json.loads(value)
    reply_ts = wait_until(
        lambda: bot.services.triage.store.get(item["c"], item["t"]).reply_ts, what="reply ts stored for the item"
    )
    name, url = bot.response_url()
    payload = block_actions(action_id, value, response_url=url, user=user, channel=channel, message_ts=reply_ts)
    resp = send_signed(bot.url, interaction_body(payload), BOT_SIGNING_SECRET)
    assert resp.status_code == 200
    return name


def updates(slack, reply_ts: str, count: int = 1) -> list[dict]:
    slack.wait_for(lambda cs: sum(c["name"] == "chat.update" and c["args"].get("ts") == reply_ts for c in cs) >= count)
    return [c["args"] for c in slack.calls("api", "chat.update") if c["args"].get("ts") == reply_ts]


# -- the reply --------------------------------------------------------------------------------


def test_an_integrations_message_gets_one_threaded_reply_with_a_masked_compact_card(triage_bot, slack, sandbox):
    ts = post(
        triage_bot,
        "Missed call from (212) 555-8383, says he was double-charged",
        bot_id=PHONE_SYSTEM,
        subtype="bot_message",
    )
    reply = reply_to(slack, ts)
    assert reply["channel"] == WATCHED and reply["thread_ts"] == ts
    text = text_of(reply["blocks"])
    for needle in ("Jerry Seinfeld", "New York, NY", "Verizon Wireless", "🟢 low fraud threat", "d•••@nextcaller.com"):
        assert needle in text
    assert "demo@nextcaller.com" not in text and "129 West 81st" not in text and "street hidden" in text
    assert "first time seen in this channel" in text and messages.TRIAGE_OPEN in text
    assert [e["action_id"] for e in reply["blocks"][-1]["elements"]] == [
        cards.ACTION_CLAIM,
        cards.ACTION_RESOLVE,
        cards.ACTION_FLAG,
    ]
    assert reply["text"] == "Caller (212) 555-8383: Jerry Seinfeld"

    again = post(triage_bot, "he called back: 212.555.8383")
    assert "seen 2 times in this channel in the last 24 h" in text_of(reply_to(slack, again)["blocks"])
    triage_bot.drain()
    assert sandbox.httpd.request_count == 1  # the cache: a repeated number is fetched once
    assert len(replies(slack)) == 2
    lookups = [e for e in triage_bot.services.audit.entries() if e["action"] == "triage_lookup"]
    assert [(e["user_id"], e["channel_id"], e["phone"]) for e in lookups] == [
        (PHONE_SYSTEM, WATCHED, "2125558383"),
        ("U0CALLER01", WATCHED, "2125558383"),
    ]


def test_the_full_email_and_street_only_in_a_channel_cleared_for_them(triage_bot, slack):
    ts = post(triage_bot, "call from 2125558383", channel=CLEARED)
    text = text_of(reply_to(slack, ts)["blocks"])
    assert "demo@nextcaller.com" in text and "129 West 81st Street" in text


def test_tel_links_several_numbers_at_most_five_and_a_thread_reply(triage_bot, slack):
    many = " ".join(f"(212) 555-01{i:02d}" for i in range(6))
    ts = post(triage_bot, f"<tel:+12125558383|(212) 555-8383> and 312-555-0142 then {many}")
    reply = reply_to(slack, ts)
    numbers = [b["text"]["text"].split("\n")[0].split(" · ")[0] for b in reply["blocks"] if b["type"] == "section"]
    assert numbers == [
        "*(212) 555-8383*",
        "*(312) 555-0142*",
        "*(212) 555-0100*",
        "*(212) 555-0101*",
        "*(212) 555-0102*",
    ]
    assert "3 more number(s)" in text_of(reply["blocks"])

    parent = slack.new_ts()
    in_thread = post(triage_bot, "same caller again 2125558383", thread_ts=parent)
    assert reply_to(slack, parent)["thread_ts"] == parent and in_thread != parent


def test_a_number_with_no_record_says_so(triage_bot, slack):
    ts = post(triage_bot, "who is 202-555-0999?")
    assert f"*(202) 555-0999* · {messages.TRIAGE_NO_RECORD}" in text_of(reply_to(slack, ts)["blocks"])


# -- what gets no reply -------------------------------------------------------------------------


def test_own_messages_edits_deletions_joins_unwatched_channels_and_numberless_messages_get_nothing(
    triage_bot, slack, sandbox
):
    post(triage_bot, "Caller (212) 555-8383: Jerry Seinfeld", bot_id=BOT_ID, subtype="bot_message")
    post(triage_bot, "Caller (212) 555-8383", user=BOT_USER_ID)
    post(triage_bot, "", subtype="message_changed", message={"text": "now 212-555-8383", "ts": "1.1"})
    post(triage_bot, "", subtype="message_deleted", previous_message={"text": "212-555-8383"})
    post(triage_bot, "<@U0NEW0001> has joined 212-555-8383", subtype="channel_join")
    post(triage_bot, "call from 2125558383", channel=OTHER)
    post(triage_bot, "no number here, just 12345")
    triage_bot.drain()
    assert replies(slack) == [] and sandbox.httpd.request_count == 0


def test_a_retried_delivery_gives_no_second_reply_and_no_second_lookup(triage_bot, slack, sandbox):
    ts = post(triage_bot, "call from 2125558383", event_id="Ev0TRIAGE01")
    reply_to(slack, ts)
    post(triage_bot, "call from 2125558383", ts=ts, event_id="Ev0TRIAGE01", retry=1)
    # the same message under another event id (a retry that reached a process that lost the first claim)
    post(triage_bot, "call from 2125558383", ts=ts, event_id="Ev0TRIAGE02", retry=2)
    triage_bot.drain()
    assert len(replies(slack, ts)) == 1 and not slack.calls("api", "chat.update")
    assert sandbox.httpd.request_count == 1
    lookups = [e for e in triage_bot.services.audit.entries() if e["action"] == "triage_lookup"]
    assert len(lookups) == 1  # not even a cached second lookup


# -- buttons -----------------------------------------------------------------------------------


def test_claim_by_ana_then_ben_is_told_who_has_it_then_release_resolve_and_flag(triage_bot, slack):
    ts = post(triage_bot, "call from 2125558383")
    reply = reply_to(slack, ts)
    value = cards.item_value(WATCHED, ts)

    press(triage_bot, cards.ACTION_CLAIM, value, user=ANA)
    (claimed,) = updates(slack, reply["ts"])
    assert claimed["channel"] == WATCHED and f"Claimed by <@{ANA}> at <!date^" in text_of(claimed["blocks"])
    assert cards.ACTION_RELEASE in text_of(claimed["blocks"]) and "Jerry Seinfeld" in text_of(claimed["blocks"])

    told = triage_bot.responses(press(triage_bot, cards.ACTION_CLAIM, value, user=BEN))
    assert told[0]["response_type"] == "ephemeral" and f"<@{ANA}> already has this one" in told[0]["text"]
    told = triage_bot.responses(press(triage_bot, cards.ACTION_RELEASE, value, user=BEN))
    assert f"Only <@{ANA}>" in told[0]["text"]
    assert triage_bot.services.triage.store.get(WATCHED, ts).claimed_by == ANA

    press(triage_bot, cards.ACTION_RELEASE, value, user=ANA)
    assert cards.ACTION_CLAIM in text_of(updates(slack, reply["ts"], 2)[-1]["blocks"])
    press(triage_bot, cards.ACTION_FLAG, value, user=BEN)
    assert f"Flagged as fraud by <@{BEN}>" in text_of(updates(slack, reply["ts"], 3)[-1]["blocks"])
    press(triage_bot, cards.ACTION_RESOLVE, value, user=ANA)
    resolved = text_of(updates(slack, reply["ts"], 4)[-1]["blocks"])
    assert f"Resolved by <@{ANA}>" in resolved and "Flagged as fraud" in resolved
    # done: only Reopen is left (issue 26)
    assert [e["action_id"] for e in json.loads(resolved)[-1]["elements"]] == [cards.ACTION_REOPEN]
    triage_bot.drain()
    actions = [
        (e["user_id"], e["action"], e["outcome"])
        for e in triage_bot.services.audit.entries()
        if e["action"] != "triage_lookup"
    ]
    assert actions == [
        (ANA, "claim", "done"),
        (BEN, "claim", "no change"),
        (BEN, "release", "no change"),
        (ANA, "release", "done"),
        (BEN, "flag_fraud", "done"),
        (ANA, "resolve", "done"),
    ]


def test_show_full_card_is_private_and_refused_outside_the_allowlist(make_bot, slack, sandbox):
    bot = make_bot(watch_channels=frozenset({WATCHED}), allowed_users=frozenset({ANA}))
    ts = post(bot, "call from 2125558383")  # the poster is an integration or anyone: not checked
    reply_to(slack, ts)
    value = cards.item_value(WATCHED, ts, "2125558383")

    (refused,) = bot.responses(press(bot, cards.ACTION_FULL_CARD, value, user=BEN))
    assert refused["response_type"] == "ephemeral" and refused["text"] == messages.refusal(Refusal.USER)
    (card,) = bot.responses(press(bot, cards.ACTION_FULL_CARD, value, user=ANA))
    assert card["response_type"] == "ephemeral" and card["replace_original"] is False
    assert card["blocks"][0]["text"]["text"] == "Jerry Seinfeld" and "demo@nextcaller.com" in text_of(card["blocks"])
    bot.drain()
    audit = [
        (e["user_id"], e["action"], e["outcome"]) for e in bot.services.audit.entries() if e["action"] == "triage_card"
    ]
    assert audit == [(BEN, "triage_card", "refused: policy"), (ANA, "triage_card", "found 1")]


def test_a_burst_over_the_channels_budget_pauses_lookups_and_loses_nothing(make_bot, slack, sandbox):
    from nextcaller_ops.sandbox import synthetic_phone

    bot = make_bot(watch_channels=frozenset({WATCHED}), watch_lookups_per_minute=2)
    numbers = [synthetic_phone(i) for i in range(4)]
    stamps = []
    for text in [f"missed call {n}" for n in numbers] + [f"missed call {numbers[0]} again"]:  # the last: cached
        stamps.append(post(bot, text))
        reply_to(slack, stamps[-1])
    bot.drain()
    sent = {r["thread_ts"]: text_of(r["blocks"]) for r in replies(slack)}
    assert len(sent) == 5
    paused = [ts for ts in stamps if "Lookups are paused for a moment" in sent[ts]]
    assert paused == stamps[2:4]
    assert all('"Look up"' in sent[ts] for ts in paused)
    assert sandbox.httpd.request_count == 2
    store = bot.services.triage.store
    assert [store.get(WATCHED, ts).stage for ts in paused] == ["paused", "paused"]  # kept, due again shortly

    # the rest of the test needs a live bot: a second process on the same data takes over
    again = make_bot(data_dir=bot.settings.data_dir, watch_channels=frozenset({WATCHED}), watch_lookups_per_minute=2)
    phone = numbers[2]
    reply_ts = next(r["ts"] for r in replies(slack) if r["thread_ts"] == paused[0])
    press(again, cards.ACTION_LOOKUP, cards.item_value(WATCHED, paused[0], phone))
    (looked_up,) = updates(slack, reply_ts)
    assert "paused" not in text_of(looked_up["blocks"]) and "Show full card" in text_of(looked_up["blocks"])


def test_an_api_failure_says_it_will_retry_and_the_reply_is_updated_even_after_a_restart(
    make_bot, slack, sandbox, tmp_path
):
    settings = {"watch_channels": frozenset({WATCHED}), "triage_retry_seconds": 0.2, "data_dir": tmp_path / "triage"}
    first = make_bot(**settings)
    sandbox.fail_rate = 1.0
    ts = post(first, "call from 2125558383")
    reply = reply_to(slack, ts)
    assert messages.TRIAGE_NOT_ANSWERING in text_of(reply["blocks"])
    first.close()  # the bot stops before the retry

    sandbox.fail_rate = 0.0
    second = make_bot(**settings)
    second.services.triage_worker.start()
    (updated,) = updates(slack, reply["ts"])
    assert "Jerry Seinfeld" in text_of(updated["blocks"]) and messages.TRIAGE_NOT_ANSWERING not in text_of(
        updated["blocks"]
    )
    assert len(replies(slack, ts)) == 1


# -- /caller watch and /caller triage ------------------------------------------------------------


def test_watch_on_off_is_for_admins_and_survives_a_restart(make_bot, slack, tmp_path):
    data = tmp_path / "watch"
    bot = make_bot(admins=frozenset({ADMIN}), data_dir=data)
    assert bot.command("watch", channel=OTHER)[0].json()["text"] == messages.watch_state(False)
    assert bot.command("watch on", channel=OTHER, user=AGENT)[0].json()["text"] == messages.WATCH_ADMINS_ONLY
    assert bot.command("watch on", channel=OTHER, user=ADMIN)[0].json()["text"] == messages.watch_changed(True)
    bot.close()

    again = make_bot(admins=frozenset({ADMIN}), data_dir=data)
    assert again.command("watch", channel=OTHER)[0].json()["text"] == messages.watch_state(True)
    ts = post(again, "call from 2125558383", channel=OTHER)
    reply_to(slack, ts)
    assert again.command("watch off", channel=OTHER, user=ADMIN)[0].json()["text"] == messages.watch_changed(False)
    post(again, "call from 3125550142", channel=OTHER)
    again.drain()
    assert len(replies(slack)) == 1
    audit = [(e["user_id"], e["outcome"]) for e in again.services.audit.entries() if e["action"] == "watch"]
    assert audit == [(AGENT, "refused: not an admin"), (ADMIN, "on"), (ADMIN, "off")]


def test_caller_triage_lists_open_items_oldest_first(triage_bot, slack):
    stamps = []
    for text in ("call from 2125558383", "call from 312-555-0142", "call from 202-555-0999"):
        stamps.append(post(triage_bot, text))
        reply_to(slack, stamps[-1])
    press(triage_bot, cards.ACTION_CLAIM, cards.item_value(WATCHED, stamps[1]), user=ANA)
    updates(slack, replies(slack, stamps[1])[0]["ts"])
    press(triage_bot, cards.ACTION_RESOLVE, cards.item_value(WATCHED, stamps[2]), user=ANA)
    updates(slack, replies(slack, stamps[2])[0]["ts"])
    listed = triage_bot.command("triage", user=BEN, channel=WATCHED)[0].json()
    assert listed["response_type"] == "ephemeral"
    lines = listed["text"].split("\n")
    assert lines[0] == messages.open_items_title(2)
    assert "Jerry Seinfeld" in lines[1] and messages.TRIAGE_OPEN in lines[1]
    assert "Alex Rivera, Sam Rivera" in lines[2] and f"Claimed by <@{ANA}>" in lines[2]
    assert len(lines) == 3  # the resolved one is not listed


def test_caller_triage_with_5000_open_items_lists_a_bounded_page_and_counts_the_rest_in_the_ack(
    triage_bot, slack, monkeypatch
):
    ts = post(triage_bot, "call from 2125558383")
    reply = reply_to(slack, ts)
    store = triage_bot.services.triage.store
    item = store.get(WATCHED, ts)
    now = time.time()
    with sqlite3.connect(triage_bot.settings.data_dir / "triage.sqlite3") as db:  # 5,000 open items, cards and all
        db.executemany(
            "INSERT INTO triage_items (channel_id, message_ts, thread_ts, poster, numbers, created, stage, cards,"
            " summary) VALUES (?, ?, ?, ?, ?, ?, 'done', ?, ?)",
            [
                (
                    WATCHED,
                    f"{now - 600 - n:.6f}",
                    f"{now - 600 - n:.6f}",
                    "U0CALLER01",
                    '["2125558383"]',
                    now - 600 - n,
                    json.dumps(item.cards),
                    reply["text"],
                )
                for n in range(5000)
            ],
        )

    def everything(*args, **kwargs):
        raise AssertionError("/caller triage loaded every open item")

    monkeypatch.setattr(store, "open_items", everything)
    acked_in = []
    for _ in range(3):  # each answer is the bounded page; the time is the best of three (below)
        started = time.monotonic()
        answer = triage_bot.command("triage", user=BEN, channel=WATCHED)[0]
        acked_in.append(time.monotonic() - started)
        assert answer.status_code == 200, answer.text
        lines = answer.json()["text"].split("\n")
        assert lines[0] == messages.open_items_title(5001)
        assert len(lines) == 1 + MAX_LISTED + 1 and lines[-1] == messages.triage_more_items(5001 - MAX_LISTED)
        assert "Jerry Seinfeld" in lines[1] and messages.TRIAGE_OPEN in lines[1]
    print(f"/caller triage with 5,001 open items acked in {', '.join(f'{s * 1000:.0f} ms' for s in acked_in)}")
    # Issue 20: acked in < 1 s with 5,000 open items (Slack allows 3 s).  The best of three, so that a
    # moment when a loaded machine runs something else is not counted against the bot; what keeps the
    # whole list out of the ack is the bounded page above and open_items refusing to be called.
    assert min(acked_in) < 1.0, acked_in


def test_caller_triage_in_an_unwatched_channel_says_so(triage_bot):
    assert triage_bot.command("triage", channel=OTHER)[0].json()["text"] == messages.NOT_WATCHED


def test_the_worker_purges_what_is_past_its_time(triage_bot):
    import threading

    from bot.triage import TriageWorker

    purged = threading.Event()
    worker = TriageWorker(
        triage_bot.services.triage, poll_seconds=0.01, housekeeping=purged.set, housekeeping_seconds=0
    )
    worker.start()
    try:
        assert purged.wait(PATIENCE)
    finally:
        worker.stop()


def test_messages_in_channels_nobody_watches_leave_no_de_duplication_row(triage_bot, slack):
    post(triage_bot, "call from 2125558383", channel=OTHER, event_id="Ev0UNWATCHED")
    ts = post(triage_bot, "call from 2125558383", event_id="Ev0WATCHED01")
    reply_to(slack, ts)
    dedupe = triage_bot.services.dedupe
    assert dedupe.claim("event:Ev0UNWATCHED") is True  # never claimed by the bot
    assert dedupe.claim("event:Ev0WATCHED01") is False


def test_a_rerun_of_a_still_paused_item_that_changes_nothing_leaves_the_reply_alone(make_bot, slack, sandbox):
    bot = make_bot(watch_channels=frozenset({WATCHED}), watch_lookups_per_minute=1)
    reply_to(slack, post(bot, "missed call 2125558383"))
    paused = post(bot, "missed call 312-555-0142")
    reply = reply_to(slack, paused)
    assert "Lookups are paused for a moment" in text_of(reply["blocks"])
    bot.drain()
    triage = bot.services.triage

    def rerun() -> None:  # what the worker does when the paused item is due again
        taken = triage.store.take_due(now=time.time() + 3600, lease_seconds=60)
        assert [i.message_ts for i in taken] == [paused]
        triage.run(taken[0])

    rerun()
    rerun()
    assert slack.calls("api", "chat.update") == []  # still paused, nothing changed: Slack is not asked
    assert triage.store.get(WATCHED, paused).stage == "paused"
    assert sandbox.httpd.request_count == 1

    triage.act(WATCHED, paused, "claim", ANA)  # a change is still drawn, once
    rerun()
    (claimed,) = slack.calls("api", "chat.update")
    assert claimed["args"]["ts"] == reply["ts"] and f"Claimed by <@{ANA}>" in text_of(claimed["args"]["blocks"])
