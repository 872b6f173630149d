"""The bot as a real process: kill -9 mid-delivery, and what Bolt logs."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3

from bot import blocks as bk
from bot import modal
from bot.standin.payloads import block_actions, command_body, interaction_body, send_signed, view_submission
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE, SEINFELD_ID, hold_requests, wait_until
from tests.support.procs import free_port, start_http_bot, stop
from tests.support.secrets import RELIABILITY_BOT_TOKEN as BOT_TOKEN
from tests.support.secrets import RELIABILITY_SIGNING as SIGNING


def test_outbox_survives_kill_9_mid_delivery_and_delivers_exactly_once(tmp_path, monkeypatch):
    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            NEXTCALLER_BASE_URL=sandbox.url,
            NEXTCALLER_CONSUMER_KEY=sandbox.consumer_key,
            NEXTCALLER_CONSUMER_SECRET=sandbox.consumer_secret,
            NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "bot"),
            NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "cfg"),
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING,
            SLACK_API_URL=slack.api_url,
            NEXTCALLER_TIMEOUT=str(int(PATIENCE)),  # the held POST below must not time out before the kill
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}/slack/events"
        bot = start_http_bot(env, port)
        # The correction's POST is held at the API until the bot is dead: in flight when it dies, however
        # slow the machine (a latency could be outlasted).
        bot_dead = hold_requests(sandbox, monkeypatch, "POST")
        try:
            send_signed(url, command_body("2125558383", response_url=slack.response_url("c")), SIGNING)
            slack.wait_for(lambda cs: any(c["kind"] == "response" for c in cs))
            click = block_actions(
                bk.ACTION_SUGGEST,
                json.dumps({"id": SEINFELD_ID, "phone": "2125558383"}),
                response_url=slack.response_url("b"),
            )
            send_signed(url, interaction_body(click), SIGNING)
            calls = slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
            view = next(c for c in calls if c["name"] == "views.open")["args"]["view"]
            typed = {modal.field_block_id("first_name"): "Jerome"}
            submission = view_submission(view, typed, view_id="V0KILL0001")

            send_signed(url, interaction_body(submission), SIGNING)
            wait_until(lambda: sandbox.httpd.received.get("POST"), what="correction's POST at the API")
            assert sandbox.httpd.received.get("POST") == 1
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=PATIENCE)
        finally:
            if bot.poll() is None:
                bot.kill()
            bot_dead.set()
        # The API received the POST and applies it although nobody is left to hear the answer.
        wait_until(lambda: sandbox.store.corrections(SEINFELD_ID), what="correction applied by the API")
        assert len(sandbox.store.corrections(SEINFELD_ID)) == 1
        outbox = sqlite3.connect(tmp_path / "bot" / "outbox.sqlite3")
        assert outbox.execute("SELECT status FROM outbox").fetchall() == [("delivering",)]
        outbox.close()

        bot = start_http_bot(env, port)
        try:
            slack.wait_for(
                lambda cs: any(c["name"] == "chat.postMessage" and "delivered" in c["args"].get("text", "") for c in cs)
            )
        finally:
            stop(bot)
        assert [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)] == [{"first_name": "Jerome"}]
        outbox = sqlite3.connect(tmp_path / "bot" / "outbox.sqlite3")
        assert outbox.execute("SELECT status, attempts FROM outbox").fetchall() == [("delivered", 2)]
        outbox.close()
        # the re-delivery was signed anew: no nonce was sent twice
        nonces = [r["nonce"] for r in sandbox.httpd.signed_requests]
        assert len(nonces) == len(set(nonces))


def test_bolt_refusal_logs_mask_the_number(api_env, caplog, tmp_path):
    from tests.support.botkit import RunningBot

    with FakeSlack() as slack:
        bot = RunningBot(api_env, slack, tmp_path / "d")
        try:
            with caplog.at_level(logging.DEBUG):
                bot.command("2125558383", secret="forged-secret")
                bot.card("3125550142")
        finally:
            bot.close()
    assert "Invalid request signature" in caplog.text
    assert "2125558383" not in caplog.text and "3125550142" not in caplog.text
    assert "212***8383" in caplog.text
