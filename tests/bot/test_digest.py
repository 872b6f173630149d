"""The triage digest (issue 26, part 6): at NEXTCALLER_OPS_DIGEST_AT in NEXTCALLER_OPS_TIMEZONE, per watched
channel, only when something changed since the last one; once across processes; `/caller digest` for admins.

The triage clock is moved to the scheduled times; the Bolt app over signed HTTP, the fake Slack, the sandbox.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block

from bot import messages
from bot.settings import BotSettings
from bot.standin.payloads import message_event
from bot.triage.digest import due_slot, run_scheduled
from nextcaller_ops.errors import UsageError
from tests.support.common import wait_until

pytestmark = pytest.mark.timeout(120)

PAY, SUP, DIGEST = "C0PAYMENT1", "C0SUPPORT1", "C0DIGEST01"
JERRY, ADMIN, ANA = "2125558383", "U0ADMIN001", "U0ANA00001"


def post(bot, channel: str, text: str) -> str:
    ts = bot.slack.new_ts()
    assert bot.event(message_event(channel, text, ts, user="U0CALLER01")).status_code == 200
    store = bot.services.triage.store
    wait_until(lambda: (i := store.get(channel, ts)) and i.reply_ts and i.attempts > 0, what="the reply")
    return ts


def digests(slack) -> list[dict]:
    return [c["args"] for c in slack.calls("api", "chat.postMessage") if c["args"].get("channel") == DIGEST]


def next_eight_utc(after: float) -> float:
    day = datetime.fromtimestamp(after, UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    return (day if day.timestamp() > after else day + timedelta(days=1)).timestamp()


def set_clock(bot, when: float) -> None:
    bot.services.triage._clock = lambda: when


def make(make_bot, **kw):
    return make_bot(
        watch_channels=frozenset({PAY, SUP}),
        admins=frozenset({ADMIN}),
        digest_channel=DIGEST,
        digest_at=((8, 0),),
        timezone="UTC",
        **kw,
    )


def test_due_slot_in_the_configured_zone():
    ny = datetime(2026, 12, 2, 9, 30, tzinfo=UTC).timestamp()  # 04:30 in New York
    assert due_slot(ny, ((8, 0), (16, 0)), "America/New_York") == "2026-12-01 16:00"
    assert due_slot(ny, ((8, 0), (16, 0)), "UTC") == "2026-12-02 08:00"
    assert due_slot(ny, (), "UTC") is None


def test_a_digest_per_channel_only_when_something_changed_since_the_last_one(make_bot, slack):
    bot = make(make_bot)
    ts = post(bot, PAY, f"call from {JERRY}")
    post(bot, PAY, f"again {JERRY}")
    first = next_eight_utc(bot.services.triage.now())
    set_clock(bot, first + 60)
    triage = bot.services.triage

    slot, posted = run_scheduled(triage)
    assert posted == 1 and slot.endswith("08:00")  # PAY only: nothing happened in SUP
    assert run_scheduled(triage) == (slot, 0)  # the slot is taken
    (digest,) = digests(slack)
    for block in digest["blocks"]:
        Block.parse(block).validate_json()
        assert len(json.dumps(block)) < 3000
    shown = json.dumps(digest["blocks"], ensure_ascii=False)
    assert (
        f"Triage digest for <#{PAY}>" in shown and "2 opened · 0 claimed · 0 resolved · 0 dropped · 0 flagged" in shown
    )
    assert f"https://slack.com/archives/{PAY}/p{ts.replace('.', '')}" in shown and "⚠️ unclaimed, stale" in shown
    assert "Repeat callers" in shown and "(212) 555-8383 ×2" in shown

    set_clock(bot, first + 86400 + 60)  # the next day's 08:00: nothing changed since
    assert run_scheduled(triage)[1] == 0 and len(digests(slack)) == 1

    triage.store.act(PAY, ts, "claim", ANA, first + 86400 + 120)
    set_clock(bot, first + 2 * 86400 + 60)
    assert run_scheduled(triage)[1] == 1
    assert "0 opened · 1 claimed" in json.dumps(digests(slack)[-1]["blocks"], ensure_ascii=False)


def test_each_scheduled_digest_is_posted_once_across_two_processes_on_postgresql(make_bot, slack, pg_schema, tmp_path):
    bots = [make(make_bot, database_url=pg_schema.url, data_dir=tmp_path / f"b{i}") for i in range(2)]
    post(bots[0], PAY, f"call from {JERRY}")
    when = next_eight_utc(bots[0].services.triage.now()) + 60
    for bot in bots:
        set_clock(bot, when)
    start = threading.Barrier(6)

    def run(bot):
        start.wait()
        run_scheduled(bot.services.triage)

    threads = [threading.Thread(target=run, args=(bots[i % 2],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(digests(slack)) == 1


def test_caller_digest_posts_one_now_for_admins_only(make_bot, slack):
    bot = make(make_bot)
    post(bot, SUP, f"call from {JERRY}")
    resp, _ = bot.command("digest", user=ANA, channel=SUP)
    assert resp.json()["text"] == messages.DIGEST_ADMINS_ONLY
    assert not digests(slack)

    resp, name = bot.command("digest", user=ADMIN, channel=SUP)
    assert resp.status_code == 200
    assert bot.responses(name)[0]["text"] == messages.digest_posted(1)
    (digest,) = digests(slack)
    assert f"Triage digest for <#{SUP}>" in json.dumps(digest["blocks"], ensure_ascii=False)
    outcomes = [(e["user_id"], e["outcome"]) for e in bot.services.audit.entries() if e["action"] == "digest"]
    assert outcomes == [(ANA, "refused: not an admin"), (ADMIN, "posted 1")]


def test_digest_settings_from_the_environment():
    env = {
        "NEXTCALLER_OPS_DIGEST_AT": "16:00, 08:00",
        "NEXTCALLER_OPS_TIMEZONE": "Europe/Paris",
        "NEXTCALLER_OPS_DIGEST_CHANNEL": DIGEST,
    }
    s = BotSettings.from_env(env, use_keyring=False)
    assert (s.digest_at, s.timezone, s.digest_channel) == (((8, 0), (16, 0)), "Europe/Paris", DIGEST)
    with pytest.raises(UsageError, match="NEXTCALLER_OPS_DIGEST_AT: '8am'"):
        BotSettings.from_env({"NEXTCALLER_OPS_DIGEST_AT": "8am"}, use_keyring=False)
    with pytest.raises(UsageError, match="NEXTCALLER_OPS_TIMEZONE: 'Mars/Olympus'"):
        BotSettings.from_env({"NEXTCALLER_OPS_TIMEZONE": "Mars/Olympus"}, use_keyring=False)
