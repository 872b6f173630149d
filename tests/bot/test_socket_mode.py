"""``nextcaller-ops bot --socket`` as a real process against the Socket Mode stand-in (bot/standin/socket_server.py),
with the sandbox as the API: commands, buttons, the modal and a triage channel's messages as envelopes,
their acknowledgements, reconnects, several processes, a refused app token, shutdown.

One bot process serves most tests (start-ups are the slow part); the tests that end a process or
need a second one start their own.  Timings are recorded (``record_property``), never asserted.
"""

from __future__ import annotations

import itertools
import json
import signal
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import blocks as bk
from bot import modal
from bot.standin.payloads import message_event
from bot.standin.socket_server import Envelope, FakeSocketMode
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE, SEINFELD_ID, hold_requests
from tests.support.secrets import WRONG_APP_TOKEN
from tests.support.socketkit import APP_TOKEN, SocketBot, button_click, socket_env, until, view_submission

WATCHED = "C0WATCHED01"  # a triage channel (NEXTCALLER_OPS_WATCH_CHANNELS)


@dataclass
class World:
    sandbox: Sandbox
    slack: FakeSlack
    sm: FakeSocketMode
    bot: SocketBot
    root: Path
    names = itertools.count(1)

    def command(self, text: str, *, connection: int | None = None, **fields: Any) -> tuple[Envelope, str]:
        name = f"cmd{next(self.names)}"
        url = self.slack.response_url(name)
        return self.sm.command(text, response_url=url, connection=connection, **fields), name

    def responses(self, name: str, count: int = 1) -> list[dict[str, Any]]:
        calls = self.slack.wait_for(lambda cs: sum(c["name"] == name for c in cs) >= count, timeout=PATIENCE)
        return [c["args"] for c in calls if c["kind"] == "response" and c["name"] == name]

    def answered(self, text: str = "2125558383", **fields: Any) -> tuple[Envelope, dict[str, Any]]:
        """A command, its ack and its card: (envelope, card)."""
        envelope, name = self.command(text, **fields)
        self.sm.wait_ack(envelope)
        return envelope, self.responses(name)[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("socket")
    with (
        Sandbox(records=20, db=root / "api.sqlite3") as sandbox,
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
    ):
        bot = SocketBot(socket_env(sandbox, slack, root / "bot"), sm, root / "bot.err")
        try:
            yield World(sandbox, slack, sm, bot, root)
        finally:
            bot.stop()


def test_caller_envelope_is_acked_and_the_private_card_reaches_the_response_url(world, record_property):
    envelope, name = world.command("2125558383")
    ack = world.sm.wait_ack(envelope)
    record_property("ack_seconds", round(ack.latency or 0, 4))
    assert ack.connection == world.bot.link.id == envelope.connection
    assert not ack.payload  # an empty ack: the card follows at the response_url
    card = world.responses(name)[0]
    assert card["response_type"] == "ephemeral"
    assert "Jerry Seinfeld" in json.dumps(card)

    usage, _ = world.command("help")  # what a listener puts in its ack travels in the ack's payload
    assert "/caller" in json.dumps(world.sm.wait_ack(usage).payload)


def test_button_and_modal_through_interactive_envelopes(world):
    _, card = world.answered("2125558383")
    before = len(world.slack.calls("api", "views.open"))
    click = world.sm.interactive(button_click(card, bk.ACTION_SUGGEST, response_url=world.slack.response_url("b1")))
    assert not world.sm.wait_ack(click).payload
    calls = world.slack.wait_for(lambda cs: sum(c["name"] == "views.open" for c in cs) > before)
    view = [c for c in calls if c["name"] == "views.open"][-1]["args"]["view"]

    bad = world.sm.interactive(view_submission(view, {"email": "not-an-email"}, view_id="V0SOCKET001"))
    ack = world.sm.wait_ack(bad)
    assert ack.payload is not None and ack.payload["response_action"] == "errors"
    assert modal.field_block_id("email") in ack.payload["errors"]
    assert not any("email" in c["body"] for c in world.sandbox.store.corrections(SEINFELD_ID))

    good = world.sm.interactive(view_submission(view, {"first_name": "Jerome"}, view_id="V0SOCKET002"))
    assert not world.sm.wait_ack(good).payload  # accepted: the modal closes
    world.slack.wait_for(lambda cs: any(c["name"] == "chat.postEphemeral" for c in cs))
    assert [c["body"] for c in world.sandbox.store.corrections(SEINFELD_ID)].count({"first_name": "Jerome"}) == 1


def test_after_a_refresh_and_a_drop_the_bot_reconnects_and_nothing_acked_is_handled_twice(world, record_property):
    sm, slack = world.sm, world.slack
    opened = len(slack.calls("api", "apps.connections.open"))
    first, _ = world.answered("2125558383")

    old = sm.disconnect(first.connection)  # {"type": "disconnect", "reason": "refresh_requested"}
    fresh = sm.wait_connections(1, newer_than=old.id)[0]
    sm.wait_for(lambda: old.state == "closed", what="the old connection closed")
    assert old.closed_by == "bot"  # the bot let the old one go, with a close frame
    after_refresh, _ = world.answered("3125550142")
    assert after_refresh.connection == fresh.id
    record_property("first_ack_after_refresh_seconds", round(sm.acks(after_refresh.envelope_id)[0].latency or 0, 4))

    sm.drop(fresh.id)  # no close frame: as a network failure would
    third = sm.wait_connections(1, newer_than=fresh.id)[0]
    after_drop, _ = world.answered("2125558383")
    assert after_drop.connection == third.id
    record_property("first_ack_after_drop_seconds", round(sm.acks(after_drop.envelope_id)[0].latency or 0, 4))

    # one new URL per new connection (no racing reconnects), one ack per envelope, one card per command
    assert len(slack.calls("api", "apps.connections.open")) == opened + 2
    for envelope in (first, after_refresh, after_drop):
        assert len(sm.acks(envelope.envelope_id)) == 1
    cards = [c for c in slack.calls("response") if c["name"].startswith("cmd")]
    assert len(cards) == len({c["name"] for c in cards})


def test_two_bot_processes_share_the_envelopes_and_answer_each_command_once(world, tmp_path):
    sm = world.sm
    (first,) = sm.connections("open")
    second = SocketBot(socket_env(world.sandbox, world.slack, world.root / "bot"), sm, tmp_path / "second.err")
    try:
        links = {lk.id for lk in sm.connections("open")}
        assert links == {first.id, second.link.id}
        sent = [world.command("2125558383", user_id=f"U0SPREAD{i:02d}") for i in range(6)]
        for envelope, name in sent:
            ack = sm.wait_ack(envelope)
            assert ack.connection == envelope.connection  # acked by the process holding that connection
            assert len(world.responses(name)) == 1
        assert {e.connection for e, _ in sent} == links  # both processes got work
        assert all(len(sm.acks(e.envelope_id)) == 1 for e, _ in sent)
    finally:
        assert second.terminate() == 0


def test_an_envelope_delivered_again_on_a_new_connection_is_acked_and_answered_once(world, tmp_path):
    sm = world.sm
    bot = SocketBot(socket_env(world.sandbox, world.slack, tmp_path / "bot"), sm, tmp_path / "again.err")
    try:
        first, name = world.command("2125558383", connection=bot.link.id)
        sm.wait_ack(first)
        world.responses(name)
        old = sm.disconnect(bot.link.id)  # the ack was lost with the connection, say: Slack tries again
        (fresh,) = sm.wait_connections(1, newer_than=old.id)
        again = sm.redeliver(first, connection=fresh.id)
        assert again.envelope_id == first.envelope_id
        sm.wait_for(lambda: len(sm.acks(first.envelope_id)) == 2, what="the redelivery's ack")
        assert sm.acks(first.envelope_id)[1].connection == fresh.id  # acked, so Slack stops
        assert bot.terminate() == 0  # SIGTERM lets running listeners finish: after it, all is said
    finally:
        bot.stop()
    assert len(world.slack.calls("response", name)) == 1


def test_two_processes_on_one_database_answer_an_envelope_delivered_to_both_once(world, tmp_path, pg_schema):
    sm = world.sm
    env = socket_env(world.sandbox, world.slack, tmp_path / "bot", NEXTCALLER_OPS_DATABASE_URL=pg_schema.url)
    one = SocketBot(env, sm, tmp_path / "one.err")
    other = SocketBot(env, sm, tmp_path / "other.err")
    try:
        first, name = world.command("3125550142", connection=one.link.id)
        sm.wait_ack(first)
        world.responses(name)
        sm.redeliver(first, connection=other.link.id)
        sm.wait_for(lambda: len(sm.acks(first.envelope_id)) == 2, what="the redelivery's ack")
        assert [a.connection for a in sm.acks(first.envelope_id)] == [one.link.id, other.link.id]
        assert one.terminate() == 0 and other.terminate() == 0
    finally:
        one.stop()
        other.stop()
    assert len(world.slack.calls("response", name)) == 1
    claimed = pg_schema.query("SELECT key FROM nextcaller_dedupe WHERE key = %s", f"envelope:{first.envelope_id}")
    assert len(claimed) == 1


def test_a_message_in_a_watched_channel_gets_one_threaded_reply_and_its_redelivery_none(world, tmp_path):
    sm, slack = world.sm, world.slack
    env = socket_env(world.sandbox, slack, tmp_path / "bot", NEXTCALLER_OPS_WATCH_CHANNELS=WATCHED)
    bot = SocketBot(env, sm, tmp_path / "watch.err")
    try:
        ts = slack.new_ts()
        message = message_event(WATCHED, "Missed call from (212) 555-8383", ts, user="U0CALLER01")
        first = sm.event(message, event_id="Ev0SOCKET01", connection=bot.link.id)
        assert not sm.wait_ack(first).payload
        slack.wait_for(lambda cs: any(c["args"].get("thread_ts") == ts for c in cs if c["name"] == "chat.postMessage"))
        again = sm.event(message, event_id="Ev0SOCKET01", retry_attempt=1, connection=bot.link.id)
        sm.wait_ack(again)  # acked, so Slack stops redelivering
        assert bot.terminate() == 0  # SIGTERM lets running listeners finish: after it, all is said
    finally:
        bot.stop()
    replies = [c["args"] for c in slack.calls("api", "chat.postMessage") if c["args"].get("thread_ts") == ts]
    assert len(replies) == 1 and "Seinfeld" in json.dumps(replies[0])
    redone = [c["args"] for c in slack.calls("api", "chat.update") if c["args"].get("channel") == WATCHED]
    assert not redone  # nor answered again in place


def test_a_wrong_app_token_is_one_line_and_exit_2(world, tmp_path):
    opened = len(world.slack.calls("api", "apps.connections.open"))
    env = socket_env(world.sandbox, world.slack, tmp_path / "bot", app_token=WRONG_APP_TOKEN)
    with pytest.raises(AssertionError, match="did not connect"):
        SocketBot(env, world.sm, tmp_path / "wrong.err")
    err = (tmp_path / "wrong.err").read_text()
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "SLACK_APP_TOKEN" in lines[0] and "invalid_auth" in lines[0]
    assert "Traceback" not in err
    assert len(world.slack.calls("api", "apps.connections.open")) == opened + 1  # asked once: no retry loop


def test_a_token_revoked_while_running_ends_the_bot_at_its_next_connection_with_exit_2(world, tmp_path):
    sm, slack = world.sm, world.slack
    bot = SocketBot(socket_env(world.sandbox, slack, tmp_path / "bot"), sm, tmp_path / "revoked.err")
    try:
        opened = len(slack.calls("api", "apps.connections.open"))
        sm.app_token = WRONG_APP_TOKEN  # the app's token was regenerated: the bot's no longer works
        sm.drop(bot.link.id)
        assert bot.proc.wait(PATIENCE) == 2
    finally:
        sm.app_token = APP_TOKEN
        bot.stop()
    err = bot.stderr()
    assert "SLACK_APP_TOKEN" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert len(slack.calls("api", "apps.connections.open")) == opened + 1  # asked once: no retry loop


def test_sigterm_closes_the_socket_and_exits_0_after_the_correction_in_flight(world, tmp_path, monkeypatch):
    sm, sandbox = world.sm, world.sandbox
    # the held POST below must not time out in the bot's client while the test waits for the close
    env = socket_env(sandbox, world.slack, tmp_path / "bot", NEXTCALLER_TIMEOUT=str(int(PATIENCE)))
    bot = SocketBot(env, sm, tmp_path / "term.err")
    try:
        here = bot.link.id  # the shared bot is connected too: send to this one
        _, name = world.command("2125558383", connection=here)
        card = next(r for r in world.responses(name) if r.get("blocks"))
        opened = len(world.slack.calls("api", "views.open"))
        click = button_click(card, bk.ACTION_SUGGEST, response_url=world.slack.response_url("t1"))
        sm.interactive(click, connection=here)
        calls = world.slack.wait_for(lambda cs: sum(c["name"] == "views.open" for c in cs) > opened)
        view = [c for c in calls if c["name"] == "views.open"][-1]["args"]["view"]
        posts = sandbox.httpd.received.get("POST", 0)
        # The correction's POST is held at the API until the bot has closed its socket: it is in flight
        # when SIGTERM comes however slow the machine is (a fixed latency could be outlasted).
        release = hold_requests(sandbox, monkeypatch, "POST")
        try:
            change = view_submission(view, {"last_name": "Seinfeld-Term"}, view_id="V0SOCKTERM1")
            submit = sm.interactive(change, connection=here)
            sm.wait_ack(submit)
            until(lambda: sandbox.httpd.received.get("POST", 0) > posts, "the correction's POST")
            bot.proc.send_signal(signal.SIGTERM)
            sm.wait_for(lambda: bot.link.state == "closed", what="the bot's socket closed after SIGTERM")
            assert bot.proc.poll() is None, "the bot exited without waiting for the correction in flight"
        finally:
            release.set()
        assert bot.proc.wait(PATIENCE) == 0
    finally:
        bot.stop()
    assert bot.link.state == "closed" and bot.link.closed_by == "bot"
    assert "Traceback" not in bot.stderr()
    db = sqlite3.connect(tmp_path / "bot" / "outbox.sqlite3")
    try:
        assert db.execute("SELECT status FROM outbox").fetchall() == [("delivered",)]
    finally:
        db.close()
    bodies = [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)]
    assert bodies.count({"last_name": "Seinfeld-Term"}) == 1
