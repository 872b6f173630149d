"""Triage timers (issue 26, part 5): one nudge to the claimer after NEXTCALLER_OPS_TRIAGE_REMIND_AFTER, a release
with a note after _RELEASE_AFTER; in the store, so they survive a restart and fire once across processes.

The triage clock is moved on (a fake clock); the claim is a signed press over HTTP; the two-process case
runs two bots on one PostgreSQL schema firing at the same moment.
"""

from __future__ import annotations

import json
import threading

import pytest

from bot.settings import BotSettings
from bot.standin.payloads import block_actions, interaction_body, message_event, send_signed
from bot.triage import cards
from bot.triage.timers import fire_timers
from nextcaller_ops.config import parse_duration
from nextcaller_ops.errors import UsageError
from tests.support.common import wait_until
from tests.support.secrets import BOT_SIGNING_SECRET

pytestmark = pytest.mark.timeout(120)

WATCHED, JERRY, ANA = "C0WATCHED1", "2125558383", "U0ANA00001"
HOUR = 3600.0


def post(bot, text: str = f"call from {JERRY}") -> str:
    ts = bot.slack.new_ts()
    assert bot.event(message_event(WATCHED, text, ts, user="U0CALLER01")).status_code == 200
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(WATCHED, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return ts


def claim(bot, ts: str, user: str = ANA) -> None:
    item = bot.services.triage.store.get(WATCHED, ts)
    _, url = bot.response_url()
    payload = block_actions(
        cards.ACTION_CLAIM, cards.item_value(WATCHED, ts), response_url=url, user=user, channel=WATCHED,
        message_ts=item.reply_ts,
    )  # fmt: skip
    assert send_signed(bot.url, interaction_body(payload), BOT_SIGNING_SECRET).status_code == 200
    wait_until(lambda: bot.services.triage.store.get(WATCHED, ts).claimed_by == user, what="claimed")


def at(bot, seconds_after_claim: float, ts: str) -> None:
    """The bot's triage clock, ``seconds_after_claim`` after the item's claim."""
    claimed_at = bot.services.triage.store.get(WATCHED, ts).claimed_at or bot.services.triage.now()
    bot.services.triage._clock = lambda: claimed_at + seconds_after_claim


def notes(slack, ts: str) -> list[str]:
    return [
        c["args"]["text"]
        for c in slack.calls("api", "chat.postMessage")
        if c["args"].get("thread_ts") == ts and not c["args"].get("blocks")
    ]


def test_one_nudge_after_remind_after_then_a_release_with_a_note_after_release_after(make_bot, slack):
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    ts = post(bot)
    claim(bot, ts)
    triage = bot.services.triage

    at(bot, 2 * HOUR - 1, ts)
    assert fire_timers(triage) == (0, 0)
    at(bot, 2 * HOUR + 1, ts)
    assert fire_timers(triage) == (1, 0)
    assert fire_timers(triage) == (0, 0)  # once
    (nudge,) = notes(slack, ts)
    assert nudge.startswith(f"⏰ <@{ANA}>, you claimed this 2 h ago and it's still open")
    assert triage.store.get(WATCHED, ts).claimed_by == ANA  # still theirs

    at(bot, 8 * HOUR + 1, ts)
    assert fire_timers(triage) == (0, 1)
    assert fire_timers(triage) == (0, 0)
    assert notes(slack, ts)[1].startswith(f"⏱ Released automatically: <@{ANA}> claimed it 8 h ago")
    item = triage.store.get(WATCHED, ts)
    assert item.claimed_by is None and item.reminded_at is None
    reply_ts = item.reply_ts
    wait_until(lambda: any(c["args"].get("ts") == reply_ts for c in slack.calls("api", "chat.update")), what="redraw")
    last = [c["args"] for c in slack.calls("api", "chat.update") if c["args"].get("ts") == reply_ts][-1]
    assert cards.ACTION_CLAIM in json.dumps(last["blocks"])
    bot.drain()
    assert len(notes(slack, ts)) == 2
    audit = [
        (e["action"], e["user_id"], e["detail"])
        for e in bot.services.audit.entries()
        if e["action"] in ("remind", "auto_release")
    ]
    assert audit == [("remind", ANA, ts), ("auto_release", ANA, ts)]


def test_a_resolved_item_gets_no_nudge_and_a_new_claim_starts_its_own_timer(make_bot, slack):
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    done, again = post(bot), post(bot, f"again {JERRY}")
    claim(bot, done)
    claim(bot, again)
    store = bot.services.triage.store
    store.act(WATCHED, done, "resolve", ANA, bot.services.triage.now())
    at(bot, 3 * HOUR, again)
    assert fire_timers(bot.services.triage) == (1, 0)
    assert notes(slack, again) and not notes(slack, done)
    store.act(WATCHED, again, "release", ANA, bot.services.triage.now())
    claim(bot, again, user="U0BEN00001")  # claimed again (real time): its own 2 hours from now
    assert store.get(WATCHED, again).reminded_at is None
    bot.drain()
    assert len(notes(slack, again)) == 1


def test_timers_survive_a_restart(make_bot, slack, tmp_path):
    first = make_bot(watch_channels=frozenset({WATCHED}), data_dir=tmp_path / "shared")
    ts = post(first)
    claim(first, ts)
    first.close()
    second = make_bot(watch_channels=frozenset({WATCHED}), data_dir=tmp_path / "shared")
    at(second, 2 * HOUR + 1, ts)
    second.services.triage_worker.start()  # the worker fires timers at every poll
    wait_until(lambda: notes(slack, ts), what="the nudge after a restart")
    second.drain()
    assert len(notes(slack, ts)) == 1


def test_each_timer_fires_once_across_two_processes_on_postgresql(make_bot, slack, pg_schema, tmp_path):
    bots = [
        make_bot(watch_channels=frozenset({WATCHED}), database_url=pg_schema.url, data_dir=tmp_path / f"b{i}")
        for i in range(2)
    ]
    ts = post(bots[0])
    claim(bots[0], ts)
    for offset, count in ((2 * HOUR + 1, 1), (8 * HOUR + 1, 2)):
        for bot in bots:
            at(bot, offset, ts)
        start = threading.Barrier(8)

        def fire(bot, start=start):
            start.wait()
            fire_timers(bot.services.triage)

        threads = [threading.Thread(target=fire, args=(bots[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_until(lambda c=count: len(notes(slack, ts)) >= c, what="the timer's note")
    for bot in bots:
        bot.drain()
    assert len(notes(slack, ts)) == 2  # one nudge, one release: not one per process, not one per thread
    # one audit log for both (PostgreSQL)
    rows = [e["action"] for e in bots[0].services.audit.entries() if e["action"] in ("remind", "auto_release")]
    assert sorted(rows) == ["auto_release", "remind"]


def test_durations_90s_30m_2h_1d_from_the_environment():
    assert [parse_duration(t) for t in ("90s", "30m", "2h", "1d", " 1.5h ")] == [90, 1800, 7200, 86400, 5400]
    env = {
        "NEXTCALLER_OPS_TRIAGE_REMIND_AFTER": "90s",
        "NEXTCALLER_OPS_TRIAGE_RELEASE_AFTER": "1d",
        "NEXTCALLER_OPS_TRIAGE_STALE_AFTER": "30m",
    }
    settings = BotSettings.from_env(env, use_keyring=False)
    assert (settings.triage_remind_after, settings.triage_release_after, settings.triage_stale_after) == (
        90,
        86400,
        1800,
    )
    defaults = BotSettings.from_env({}, use_keyring=False)
    assert (defaults.triage_remind_after, defaults.triage_release_after, defaults.triage_stale_after) == (
        7200,
        28800,
        1800,
    )
    for bad in ("2 hours", "0m", "-1h", "h"):
        with pytest.raises(UsageError, match="NEXTCALLER_OPS_TRIAGE_REMIND_AFTER"):
            BotSettings.from_env({"NEXTCALLER_OPS_TRIAGE_REMIND_AFTER": bad}, use_keyring=False)
