"""Snooze, Drop (with a reason) and Reopen on a triage reply (issue 26, part 1).

Signed block_actions over HTTP to the real Bolt app (menus as Slack sends them:
an overflow's and a static select's ``selected_option``), the fake Slack, the
sandbox.  Each change re-draws the reply in place and adds one line to the thread;
a snoozed number gets a one-line note and no lookup; every press is audited, and a
press carrying another channel's item is refused like the other triage buttons.
"""

from __future__ import annotations

import json

import pytest

from bot import messages
from bot.standin.payloads import block_actions, interaction_body, message_event, send_signed
from bot.triage import cards
from tests.support.botkit import AGENT
from tests.support.common import wait_until
from tests.support.secrets import BOT_SIGNING_SECRET

pytestmark = pytest.mark.timeout(120)

WATCHED, UNWATCHED = "C0WATCHED1", "C0NOTWATCH"
JERRY = "2125558383"
ANA = "U0ANA00001"


@pytest.fixture
def tbot(make_bot):
    return make_bot(watch_channels=frozenset({WATCHED}))


def post(bot, text: str) -> str:
    ts = bot.slack.new_ts()
    assert bot.event(message_event(WATCHED, text, ts, user="U0CALLER01")).status_code == 200
    return ts


def answered(bot, ts: str):
    """The item once its first attempt is over (its reply posted and saved)."""
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(WATCHED, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return store.get(WATCHED, ts)


def press(bot, action_id: str, ts: str, *, choice: dict | None = None, user: str = AGENT, channel: str = WATCHED):
    """Pressed on the item's reply; a menu sends the chosen option's value (``choice`` adds s/r to it)."""
    item = bot.services.triage.store.get(WATCHED, ts)
    value = cards.item_value(WATCHED, ts, **(choice or {}))
    name, url = bot.response_url()
    payload = block_actions(action_id, value, response_url=url, user=user, channel=channel, message_ts=item.reply_ts)
    if choice is not None:  # an overflow / static_select: no value, the option chosen
        kind = "overflow" if action_id == cards.ACTION_SNOOZE else "static_select"
        payload["actions"][0] = {
            "type": kind,
            "action_id": action_id,
            "block_id": "nc_t_life",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
            "action_ts": "1.0",
        }
    resp = send_signed(bot.url, interaction_body(payload), BOT_SIGNING_SECRET)
    assert resp.status_code == 200 and resp.text == ""
    return name


def thread_lines(slack, ts: str) -> list[str]:
    """Plain one-line posts (no blocks) in the thread of ``ts``."""
    return [
        c["args"]["text"]
        for c in slack.calls("api", "chat.postMessage")
        if c["args"].get("thread_ts") == ts and not c["args"].get("blocks")
    ]


def last_update(slack, reply_ts: str, count: int) -> dict:
    slack.wait_for(lambda cs: sum(c["name"] == "chat.update" and c["args"].get("ts") == reply_ts for c in cs) >= count)
    return [c["args"] for c in slack.calls("api", "chat.update") if c["args"].get("ts") == reply_ts][-1]


def audit(bot, action: str) -> list[tuple]:
    return [
        (e["user_id"], e["channel_id"], e["outcome"], e["detail"])
        for e in bot.services.audit.entries()
        if e["action"] == action
    ]


def action_ids(blocks) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_reply_offers_snooze_and_drop_menus_with_the_choices(tbot, slack):
    item = answered(tbot, post(tbot, f"call from {JERRY}"))
    (reply,) = [c["args"] for c in slack.calls("api", "chat.postMessage") if c["args"].get("blocks")]
    menus = {e["action_id"]: e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert menus[cards.ACTION_SNOOZE]["type"] == "overflow"
    assert [json.loads(o["value"])["s"] for o in menus[cards.ACTION_SNOOZE]["options"]] == ["1h", "4h", "24h"]
    assert menus[cards.ACTION_DROP]["type"] == "static_select"
    reasons = [json.loads(o["value"])["r"] for o in menus[cards.ACTION_DROP]["options"]]
    assert reasons == ["noise", "duplicate", "internal number", "test call"]
    assert all(len(o["value"]) <= 150 for m in menus.values() for o in m.get("options", []))  # Slack's limit
    assert cards.ACTION_REOPEN not in menus and item.snoozed_until is None


def test_snooze_redraws_the_reply_adds_a_line_and_a_new_message_with_the_number_gets_a_note_and_no_lookup(
    tbot, slack, sandbox
):
    ts = post(tbot, f"call from {JERRY}")
    item = answered(tbot, ts)
    press(tbot, cards.ACTION_SNOOZE, ts, choice={"s": "4h"})

    updated = last_update(slack, item.reply_ts, 1)
    assert f"Snoozed by <@{AGENT}> until <!date^" in json.dumps(updated["blocks"], ensure_ascii=False)
    wait_until(lambda: thread_lines(slack, ts), what="the snooze line in the thread")
    (line,) = thread_lines(slack, ts)
    assert line.startswith(f"💤 Snoozed by <@{AGENT}> until <!date^")
    snoozed = tbot.services.triage.store.get(WATCHED, ts)
    assert snoozed.snoozed_by == AGENT and snoozed.snoozed_until == pytest.approx(snoozed.snoozed_until)
    assert 4 * 3600 - 120 < snoozed.snoozed_until - tbot.services.triage.now() <= 4 * 3600

    requests = sandbox.httpd.request_count
    again = post(tbot, "he called back: (212) 555-8383")
    wait_until(lambda: thread_lines(slack, again), what="the snooze note")
    tbot.drain()
    (note,) = thread_lines(slack, again)
    assert "(212) 555-8383 snoozed by" in note and f"<@{AGENT}>" in note and "until <!date^" in note
    assert "\n" not in note
    assert sandbox.httpd.request_count == requests  # no lookup
    assert tbot.services.triage.store.get(WATCHED, again) is None  # no item, no card
    assert not [
        c
        for c in slack.calls("api", "chat.postMessage")
        if c["args"].get("thread_ts") == again and c["args"].get("blocks")
    ]
    assert audit(tbot, "snooze") == [(AGENT, WATCHED, "done", f"{ts} for 4h")]
    skipped = [e for e in tbot.services.audit.entries() if e["outcome"] == "skipped: snoozed"]
    assert [(e["channel_id"], e["phone"]) for e in skipped] == [(WATCHED, JERRY)]


def test_a_snooze_ends_and_the_number_is_looked_up_again(tbot, slack, sandbox):
    ts = post(tbot, f"call from {JERRY}")
    answered(tbot, ts)
    press(tbot, cards.ACTION_SNOOZE, ts, choice={"s": "1h"})
    wait_until(lambda: tbot.services.triage.store.get(WATCHED, ts).snoozed_until, what="the snooze stored")
    triage = tbot.services.triage
    later = triage.now() + 3601
    triage._clock = lambda: later  # the triage clock, an hour and a second on
    again = post(tbot, f"again {JERRY}")
    assert answered(tbot, again).cards  # a card: looked up (from the cache) and answered
    assert not thread_lines(slack, again)


def test_drop_with_a_reason_leaves_the_open_list_and_reopen_brings_it_back(tbot, slack):
    ts = post(tbot, f"call from {JERRY}")
    item = answered(tbot, ts)
    press(tbot, cards.ACTION_DROP, ts, choice={"r": "test call"})
    dropped = last_update(slack, item.reply_ts, 1)
    shown = json.dumps(dropped["blocks"], ensure_ascii=False)
    assert f"Dropped by <@{AGENT}>" in shown and "(test call)" in shown
    assert action_ids(dropped["blocks"]) == [cards.ACTION_REOPEN, cards.ACTION_FLAG]
    wait_until(lambda: thread_lines(slack, ts), what="the drop line")
    assert thread_lines(slack, ts) == [f"🗑 Dropped by <@{AGENT}>: test call."]
    triage = tbot.services.triage
    assert triage.open_items(WATCHED) == [] and triage.open_summary(WATCHED, 10)[1] == 0

    press(tbot, cards.ACTION_REOPEN, ts, user=ANA)
    reopened = last_update(slack, item.reply_ts, 2)
    assert action_ids(reopened["blocks"])[-3:] == [cards.ACTION_CLAIM, cards.ACTION_RESOLVE, cards.ACTION_FLAG]
    assert messages.TRIAGE_OPEN in json.dumps(reopened["blocks"], ensure_ascii=False)
    wait_until(lambda: len(thread_lines(slack, ts)) == 2, what="the reopen line")
    assert thread_lines(slack, ts)[-1] == f"↩️ Reopened by <@{ANA}>."
    assert [i.message_ts for i in triage.open_items(WATCHED)] == [ts]
    assert audit(tbot, "drop") == [(AGENT, WATCHED, "done", f"{ts} test call")]
    assert audit(tbot, "reopen") == [(ANA, WATCHED, "done", ts)]


def test_reopen_a_resolved_item_and_reopen_of_an_open_one_is_refused_privately(tbot, slack):
    ts = post(tbot, f"call from {JERRY}")
    item = answered(tbot, ts)
    told = tbot.responses(press(tbot, cards.ACTION_REOPEN, ts))
    assert told[0]["response_type"] == "ephemeral" and told[0]["text"] == messages.TRIAGE_NOT_DONE

    press(tbot, cards.ACTION_CLAIM, ts, user=ANA)
    press(tbot, cards.ACTION_RESOLVE, ts, user=ANA)
    resolved = last_update(slack, item.reply_ts, 2)
    assert action_ids(resolved["blocks"]) == [cards.ACTION_REOPEN, cards.ACTION_FLAG]
    press(tbot, cards.ACTION_REOPEN, ts)
    wait_until(lambda: tbot.services.triage.store.get(WATCHED, ts).resolved_at is None, what="reopened")
    after = tbot.services.triage.store.get(WATCHED, ts)
    assert after.claimed_by is None  # back in the queue
    press(tbot, cards.ACTION_DROP, ts, choice={"r": "noise"})  # live again: dropping works
    wait_until(lambda: tbot.services.triage.store.get(WATCHED, ts).dropped_at, what="dropped")
    told = tbot.responses(press(tbot, cards.ACTION_SNOOZE, ts, choice={"s": "1h"}))
    assert told[0]["text"] == messages.TRIAGE_NOT_LIVE  # dropped: nothing to snooze
    assert [o for _, _, o, _ in audit(tbot, "reopen")] == ["no change", "done"]
    assert [o for _, _, o, _ in audit(tbot, "snooze")] == ["no change"]


def test_an_unknown_choice_is_refused_privately_and_changes_nothing(tbot, slack):
    ts = post(tbot, f"call from {JERRY}")
    before = answered(tbot, ts)
    told = tbot.responses(press(tbot, cards.ACTION_SNOOZE, ts, choice={"s": "99h"}))
    assert told[0]["text"] == messages.TRIAGE_BAD_CHOICE
    told = tbot.responses(press(tbot, cards.ACTION_DROP, ts, choice={"r": "because"}))
    assert told[0]["text"] == messages.TRIAGE_BAD_CHOICE
    tbot.drain()
    assert tbot.services.triage.store.get(WATCHED, ts) == before
    assert [o for _, _, o, _ in audit(tbot, "snooze") + audit(tbot, "drop")] == ["refused: unknown choice"] * 2


@pytest.mark.parametrize(
    ("action_id", "choice"),
    [(cards.ACTION_SNOOZE, {"s": "24h"}), (cards.ACTION_DROP, {"r": "noise"}), (cards.ACTION_REOPEN, None)],
)
def test_a_press_in_another_channel_is_refused_like_the_other_triage_buttons(tbot, slack, action_id, choice):
    ts = post(tbot, f"call from {JERRY}")
    before = answered(tbot, ts)
    told = tbot.responses(press(tbot, action_id, ts, choice=choice, channel=UNWATCHED))
    assert told[0]["response_type"] == "ephemeral" and told[0]["text"] == messages.TRIAGE_NOT_THIS_CHANNEL
    tbot.drain()
    assert tbot.services.triage.store.get(WATCHED, ts) == before
    assert not slack.calls("api", "chat.update") and not thread_lines(slack, ts)
    name = {cards.ACTION_SNOOZE: "snooze", cards.ACTION_DROP: "drop", cards.ACTION_REOPEN: "reopen"}[action_id]
    assert audit(tbot, name) == [(AGENT, UNWATCHED, "refused: not this channel's item", f"{WATCHED} {ts}")]


# -- the store, on both backends (PostgreSQL: what every process shares) -------------------------

C, T0 = "C0WATCHED1", 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def triage_store(request, tmp_path):
    from nextcaller_ops.stores import open_stores

    url = request.getfixturevalue("pg_schema").url if request.param == "postgresql" else None
    stores = open_stores(tmp_path / "stores", database_url=url)
    yield stores.triage
    stores.close()


def test_store_snooze_drop_reopen_each_one_conditional_update(triage_store):
    from concurrent.futures import ThreadPoolExecutor

    from nextcaller_ops.stores import TriageItem
    from nextcaller_ops.stores.base import CLAIM, RESOLVE

    store = triage_store
    store.add(
        TriageItem(C, "1.1", "1.1", "U1", ["2125558383", "3125550142"], T0), lease_seconds=0
    )  # two numbers in one message
    item, changed = store.snooze(C, "1.1", "U0A", T0, T0 + 3600)
    assert changed and (item.snoozed_by, item.snoozed_until) == ("U0A", T0 + 3600)
    assert store.snoozed(C, "3125550142", T0 + 10).until == T0 + 3600
    assert store.snoozed(C, "3125550142", T0 + 3600) is None  # over
    assert store.snoozed("C0OTHER001", "3125550142", T0) is None  # only in its channel

    with ThreadPoolExecutor(8) as pool:  # eight drops at once: one wins
        results = list(pool.map(lambda u: store.drop(C, "1.1", u, T0 + 1, "noise")[1], [f"U{i}" for i in range(8)]))
    assert results.count(True) == 1
    assert store.open_items(C, T0 - 1) == [] and store.open_summary(C, T0 - 1, 5) == ([], 0)
    assert store.act(C, "1.1", CLAIM, "U0B", T0 + 2)[1] is False  # dropped: nobody claims it
    assert store.snooze(C, "1.1", "U0A", T0 + 2, T0 + 9000)[1] is False
    assert store.drop(C, "1.1", "U0A", T0 + 2, "duplicate")[0].drop_reason == "noise"

    item, changed = store.reopen(C, "1.1", "U0B", T0 + 3)
    assert changed and item.dropped_at is None and item.drop_reason is None
    assert store.reopen(C, "1.1", "U0B", T0 + 3)[1] is False  # open already
    assert [i.message_ts for i in store.open_items(C, T0 - 1)] == ["1.1"]
    store.act(C, "1.1", CLAIM, "U0B", T0 + 4)
    store.act(C, "1.1", RESOLVE, "U0B", T0 + 5)
    item, changed = store.reopen(C, "1.1", "U0C", T0 + 6)
    assert changed and item.resolved_at is None and item.claimed_by is None
    with pytest.raises(KeyError):
        store.reopen(C, "9.9", "U0C", T0)


# -- internal numbers (part 2): never looked up, never answered, never billed ------------------------

RIVERA = "3125550142"


def test_internal_numbers_get_no_lookup_and_no_reply_in_triage(make_bot, slack, sandbox):
    bot = make_bot(watch_channels=frozenset({WATCHED}), internal_numbers=frozenset({JERRY}))
    only_ours = post(bot, "test call from our desk (212) 555-8383")
    mixed = post(bot, f"transfer from 212.555.8383 to {RIVERA}")
    answered(bot, mixed)
    bot.drain()
    assert bot.services.triage.store.get(WATCHED, only_ours) is None
    assert not [c for c in slack.calls("api", "chat.postMessage") if c["args"].get("thread_ts") == only_ours]
    (reply,) = [c["args"] for c in slack.calls("api", "chat.postMessage") if c["args"].get("thread_ts") == mixed]
    shown = json.dumps(reply["blocks"], ensure_ascii=False)
    assert "(312) 555-0142" in shown and "555-8383" not in shown and "555-8383" not in reply["text"]
    assert bot.services.triage.store.get(WATCHED, mixed).numbers == [RIVERA]
    assert sandbox.httpd.request_count == 1  # Rivera's only
    assert not [e for e in bot.services.audit.entries() if e["phone"] == JERRY]


def test_caller_refuses_an_internal_number_in_one_line_with_no_request(make_bot, sandbox):
    bot = make_bot(internal_numbers=frozenset({JERRY}), lookups_per_minute=1)
    resp, _ = bot.command("(212) 555-8383")
    card = resp.json()  # refused in the ack itself
    assert card["response_type"] == "ephemeral" and card["text"] == messages.INTERNAL_NUMBER
    assert "\n" not in card["text"] and not card.get("blocks")
    assert sandbox.httpd.request_count == 0
    refused = [e for e in bot.services.audit.entries() if e["outcome"] == "refused: internal number"]
    assert [(e["user_id"], e["phone"]) for e in refused] == [(AGENT, JERRY)]
    assert "Jerry Seinfeld" not in json.dumps(bot.card(RIVERA))  # the per-minute limit (1) was not spent on it


def test_internal_numbers_from_the_environment_a_list_or_a_file(tmp_path):
    from bot.settings import BotSettings
    from nextcaller_ops.errors import UsageError

    def read(value: str) -> frozenset[str]:
        return BotSettings.from_env({"NEXTCALLER_OPS_INTERNAL_NUMBERS": value}, use_keyring=False).internal_numbers

    assert read("(212) 555-8383, 312.555.0142") == {JERRY, RIVERA}
    listed = tmp_path / "ours.txt"
    listed.write_text("# the front desk\n212-555-8383\n+1 312 555 0142  # the lab\n\n", encoding="utf-8")
    assert read(f"@{listed}") == read(str(listed)) == {JERRY, RIVERA}
    assert read("") == frozenset()
    with pytest.raises(UsageError, match=r"NEXTCALLER_OPS_INTERNAL_NUMBERS: 'front desk' is not a US phone number"):
        read("2125558383, front desk")
    with pytest.raises(UsageError, match=r"NEXTCALLER_OPS_INTERNAL_NUMBERS: cannot read .*missing\.txt"):
        read(f"@{tmp_path / 'missing.txt'}")
