"""Issue 26's triage buttons driven over Socket Mode: a real ``bot --socket`` process, envelopes in, the fake Slack out.

A message with a number in a watched channel (an ``events_api`` envelope) gets its threaded
reply; then each control on that reply is pressed as Slack sends it (an ``interactive``
``block_actions`` envelope with the channel and the reply's ts, a menu's chosen option taken
from the reply as drawn): Snooze, Drop with a reason, Reopen, Claim, Resolve, Flag fraud and
Verify caller (its form opened with views.open, then a ``view_submission`` envelope).  Each
envelope is acked; each change re-draws the reply with chat.update and is in the item the
process keeps in PostgreSQL (a schema of its own, read here with the same store code).
tests/bot/test_triage_lifecycle.py and test_verify.py cover the same over signed HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.standin.payloads import block_actions, message_event
from bot.standin.payloads import view_submission as slack_view_submission
from bot.standin.socket_server import Envelope, FakeSocketMode
from bot.standin.web_api import FakeSlack
from bot.triage import cards
from nextcaller_ops.sandbox import Sandbox
from nextcaller_ops.stores import Stores, TriageItem, open_stores
from tests.support.common import PATIENCE, wait_until
from tests.support.socketkit import AGENT, APP_TOKEN, SocketBot, socket_env

pytestmark = pytest.mark.timeout(int(3 * PATIENCE))

WATCHED = "C0SOCKTRI01"  # NEXTCALLER_OPS_WATCH_CHANNELS
JERRY = "2125558383"
ANA = "U0ANA00001"
TYPED = ("Jerry Kramer", "90210", "typed.secret@example.org", "77 Typed Road")


@dataclass
class Triage:
    """The bot process, the stand-ins, and the stores the process writes (opened here too)."""

    sandbox: Sandbox
    slack: FakeSlack
    sm: FakeSocketMode
    bot: SocketBot
    stores: Stores

    def post(self, text: str) -> str:
        """A person's message in the watched channel, as an events_api envelope; acked empty."""
        ts = self.slack.new_ts()
        envelope = self.sm.event(message_event(WATCHED, text, ts, user="U0CALLER01"), connection=self.bot.link.id)
        assert not self.sm.wait_ack(envelope).payload
        return ts

    def item(self, ts: str) -> TriageItem:
        item = self.stores.triage.get(WATCHED, ts)
        assert item is not None
        return item

    def answered(self, ts: str) -> TriageItem:
        """The item once its first attempt is over (the reply posted, its ts saved, the attempt counted)."""
        wait_until(
            lambda: (i := self.stores.triage.get(WATCHED, ts)) and i.reply_ts and i.attempts > 0,
            what="the threaded reply saved",
        )
        return self.item(ts)

    def drawn(self, ts: str) -> list[dict[str, Any]]:
        """The reply's blocks as Slack shows them now: the last chat.update of it, else the threaded post."""
        reply_ts = self.item(ts).reply_ts
        updates = [c["args"] for c in self.slack.calls("api", "chat.update") if c["args"].get("ts") == reply_ts]
        if updates:
            return updates[-1]["blocks"]
        (post,) = thread_posts(self.slack, ts, with_blocks=True)
        return post["blocks"]

    def press(self, ts: str, action_id: str, *, option: str | None = None, user: str = AGENT) -> Envelope:
        """``action_id`` on the item's reply as drawn, pressed by ``user`` (``option``: the menu's choice, by its
        ``s``/``r``); the block_actions envelope Slack sends, acked empty."""
        reply_ts = self.item(ts).reply_ts
        assert reply_ts
        block, element = next(
            (b, e)
            for b in self.drawn(ts)
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        url = self.slack.response_url(f"{action_id}-{time.time_ns()}")
        payload = block_actions(
            action_id, element.get("value", ""), response_url=url, user=user, channel=WATCHED, message_ts=reply_ts
        )
        if option is not None:  # an overflow / static_select: Slack sends the option chosen, no value
            chosen = next(o for o in element["options"] if option in json.loads(o["value"]).values())
            payload["actions"][0] = {
                "type": element["type"],
                "action_id": action_id,
                "block_id": block.get("block_id", ""),
                "selected_option": chosen,
                "action_ts": f"{time.time():.6f}",
            }
        envelope = self.sm.interactive(payload, connection=self.bot.link.id)
        assert not self.sm.wait_ack(envelope).payload  # acked at once, empty: the work follows
        return envelope

    def shows(self, ts: str, *texts: str, actions: list[str] | None = None) -> list[dict[str, Any]]:
        """Wait until the reply, re-drawn with chat.update, shows ``texts`` (and, if given, these controls)."""
        reply_ts = self.item(ts).reply_ts
        assert reply_ts

        def drawn() -> list[dict[str, Any]]:
            updates = [c["args"] for c in self.slack.calls("api", "chat.update") if c["args"].get("ts") == reply_ts]
            if not updates:
                return []
            blocks = updates[-1]["blocks"]
            shown = json.dumps(blocks, ensure_ascii=False)
            if not all(t in shown for t in texts):
                return []
            if actions is not None and action_ids(blocks)[-len(actions) :] != actions:
                return []
            return blocks

        return wait_until(drawn, what=f"the reply re-drawn showing {texts} {actions or ''}")

    def audit(self, action: str) -> list[tuple[str | None, str, str | None]]:
        return [(e["user_id"], e["outcome"], e["detail"]) for e in self.stores.audit.entries() if e["action"] == action]


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


def thread_posts(slack: FakeSlack, ts: str, *, with_blocks: bool) -> list[dict[str, Any]]:
    return [
        c["args"]
        for c in slack.calls("api", "chat.postMessage")
        if c["args"].get("thread_ts") == ts and bool(c["args"].get("blocks")) == with_blocks
    ]


@pytest.fixture
def triage(tmp_path: Path, pg_schema) -> Iterator[Triage]:
    with (
        Sandbox(records=20, db=tmp_path / "api.sqlite3") as sandbox,
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
    ):
        env = socket_env(
            sandbox,
            slack,
            tmp_path / "bot",
            NEXTCALLER_OPS_WATCH_CHANNELS=WATCHED,
            NEXTCALLER_OPS_DATABASE_URL=pg_schema.url,
        )
        bot = SocketBot(env, sm, tmp_path / "bot.err")
        try:
            # the process migrated the schema before it connected: read it as it is
            stores = open_stores(tmp_path / "reader", database_url=pg_schema.url, migrate=False)
            try:
                yield Triage(sandbox, slack, sm, bot, stores)
            finally:
                stores.close()
            assert bot.terminate() == 0
        finally:
            bot.stop()
        assert "Traceback" not in bot.stderr(), bot.stderr()


def test_snooze_drop_reopen_claim_resolve_and_flag_through_socket_mode_envelopes(triage: Triage) -> None:
    t, slack, sandbox = triage, triage.slack, triage.sandbox
    ts = t.post(f"Missed call from {JERRY}")
    item = t.answered(ts)
    assert len(thread_posts(slack, ts, with_blocks=True)) == 1 and item.numbers == [JERRY]

    # Snooze 4h: the reply says so, the item holds it, and the number's next message gets a note, no lookup
    t.press(ts, cards.ACTION_SNOOZE, option="4h")
    t.shows(ts, f"Snoozed by <@{AGENT}> until <!date^")
    wait_until(lambda: t.item(ts).snoozed_by == AGENT, what="the snooze stored")
    until = t.item(ts).snoozed_until
    assert until is not None and 4 * 3600 - 2 * PATIENCE < until - time.time() <= 4 * 3600
    requests = sandbox.httpd.request_count
    again = t.post("he called back: (212) 555-8383")
    note = wait_until(lambda: thread_posts(slack, again, with_blocks=False), what="the snooze note")
    assert len(note) == 1 and "(212) 555-8383 snoozed by" in note[0]["text"] and f"<@{AGENT}>" in note[0]["text"]
    wait_until(lambda: [e for e in t.stores.audit.entries() if e["outcome"] == "skipped: snoozed"], what="skip audited")
    assert sandbox.httpd.request_count == requests  # no lookup
    assert t.stores.triage.get(WATCHED, again) is None and not thread_posts(slack, again, with_blocks=True)

    # Drop with a reason: out of the open list, only Reopen and Flag fraud left
    t.press(ts, cards.ACTION_DROP, option="test call")
    t.shows(ts, f"Dropped by <@{AGENT}>", "(test call)", actions=[cards.ACTION_REOPEN, cards.ACTION_FLAG])
    wait_until(lambda: t.item(ts).dropped_at, what="the drop stored")
    assert (t.item(ts).dropped_by, t.item(ts).drop_reason) == (AGENT, "test call")
    assert t.stores.triage.open_items(WATCHED, 0) == []

    # Reopen (by someone else): open again, with Claim / Resolve / Flag fraud
    t.press(ts, cards.ACTION_REOPEN, user=ANA)
    t.shows(ts, messages.TRIAGE_OPEN, actions=[cards.ACTION_CLAIM, cards.ACTION_RESOLVE, cards.ACTION_FLAG])
    wait_until(lambda: t.item(ts).dropped_at is None, what="the reopen stored")
    assert [i.message_ts for i in t.stores.triage.open_items(WATCHED, 0)] == [ts]

    # Claim, Resolve, Flag fraud
    t.press(ts, cards.ACTION_CLAIM, user=ANA)
    t.shows(ts, f"Claimed by <@{ANA}>")
    wait_until(lambda: t.item(ts).claimed_by == ANA, what="the claim stored")
    t.press(ts, cards.ACTION_RESOLVE, user=ANA)
    t.shows(ts, f"Resolved by <@{ANA}>", actions=[cards.ACTION_REOPEN, cards.ACTION_FLAG])
    wait_until(lambda: t.item(ts).resolved_by == ANA, what="the resolve stored")
    t.press(ts, cards.ACTION_FLAG)
    t.shows(ts, f"Flagged as fraud by <@{AGENT}>")
    wait_until(lambda: t.item(ts).flagged_by == AGENT, what="the flag stored")

    wait_until(lambda: t.audit("flag_fraud"), what="the flag audited")
    assert t.audit("snooze") == [(AGENT, "done", f"{ts} for 4h")]
    assert t.audit("drop") == [(AGENT, "done", f"{ts} test call")]
    assert t.audit("reopen") == [(ANA, "done", ts)]
    assert [(u, o) for u, o, _ in t.audit("claim") + t.audit("resolve") + t.audit("flag_fraud")] == [
        (ANA, "done"),
        (ANA, "done"),
        (AGENT, "done"),
    ]
    # one line in the thread per change (snooze, drop, reopen at least), never a second card
    assert len(thread_posts(slack, ts, with_blocks=True)) == 1
    assert len(thread_posts(slack, ts, with_blocks=False)) >= 3


def test_verify_caller_through_a_block_action_and_a_view_submission_envelope(triage: Triage) -> None:
    t, slack, sandbox = triage, triage.slack, triage.sandbox
    ts = t.post(f"caller on line 2: {JERRY}")
    t.answered(ts)
    requests = sandbox.httpd.request_count

    opened = len(slack.calls("api", "views.open"))
    t.press(ts, cards.ACTION_VERIFY)
    wait_until(lambda: len(slack.calls("api", "views.open")) > opened, what="the form opened")
    view = slack.calls("api", "views.open")[-1]["args"]["view"]
    assert json.loads(view["private_metadata"]) == {"phone": JERRY, "channel": WATCHED}
    assert "Seinfeld" not in json.dumps(view)  # nothing of the record on the form

    typed = dict(zip(("v_name", "v_zip", "v_email", "v_street"), TYPED, strict=True))
    submit = t.sm.interactive(slack_view_submission(view, typed, view_id="V0SOCKVER01"), connection=t.bot.link.id)
    assert not t.sm.wait_ack(submit).payload  # accepted: the form closes, the answer follows privately
    answers = wait_until(lambda: slack.calls("api", "chat.postEphemeral"), what="the private answer")
    (answer,) = [c["args"] for c in answers]
    assert (answer["channel"], answer["user"]) == (WATCHED, AGENT)
    lines = answer["text"].splitlines()
    assert lines[0] == "*Verify caller (212) 555-8383: 🟡 partial*"
    assert lines[1:] == ["🟡 Name: partial", "❌ ZIP: no match", "❌ Email: no match", "❌ Street: no match"]
    assert sandbox.httpd.request_count == requests  # the reply's lookup is in the cache

    rows = wait_until(
        lambda: [e for e in t.stores.audit.entries() if e["action"] == "verify" and e["outcome"].startswith("verif")],
        what="the verdict audited",
    )
    assert [(e["user_id"], e["channel_id"], e["outcome"], e["detail"]) for e in rows] == [
        (AGENT, WATCHED, "verified: partial", "name=partial zip=no_match email=no_match street=no_match")
    ]
    logged = json.dumps([dict(e) for e in t.stores.audit.entries()], default=str)
    for value in (*TYPED, "Kramer", "typed.secret", "Typed Road"):
        assert value not in logged and value not in answer["text"]
