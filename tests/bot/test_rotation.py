"""Rotating secrets under a running bot: SIGHUP re-reads the Slack token; 1046/1049 re-read the API key once."""

from __future__ import annotations

import json
import os
import signal

import pytest

from bot.standin.payloads import command_body, send_signed
from bot.standin.web_api import FakeSlack
from nextcaller_ops import errors
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import wait_until
from tests.support.procs import free_port, start_http_bot, stop
from tests.support.secrets import BOT_TOKEN, RELIABILITY_BOT_TOKEN, RELIABILITY_SIGNING

OLD_TOKEN, NEW_TOKEN = RELIABILITY_BOT_TOKEN, BOT_TOKEN


def _write_env_file(path, token: str, sandbox) -> None:
    path.write_text(
        "# the bot's secrets (deploy/nextcaller-ops.env)\n"
        f"SLACK_BOT_TOKEN={token}\n"
        f'SLACK_SIGNING_SECRET="{RELIABILITY_SIGNING}"\n'
        f"NEXTCALLER_CONSUMER_KEY={sandbox.consumer_key}\n"
        f"NEXTCALLER_CONSUMER_SECRET={sandbox.consumer_secret}\n",
        encoding="utf-8",
    )


def test_sighup_makes_a_running_bot_use_the_new_bot_token_from_its_environment_file(tmp_path):
    with Sandbox(records=5, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env_file = tmp_path / "nextcaller-ops.env"
        _write_env_file(env_file, OLD_TOKEN, sandbox)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            NEXTCALLER_BASE_URL=sandbox.url,
            NEXTCALLER_OPS_ENV_FILE=str(env_file),  # the secrets come from the file alone
            NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "bot"),
            NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "cfg"),
            SLACK_API_URL=slack.api_url,
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}/slack/events"
        bot = start_http_bot(env, port)
        try:
            send_signed(url, command_body("2125558383", response_url=slack.response_url("before")), RELIABILITY_SIGNING)
            slack.wait_for(lambda cs: any(c["name"] == "before" for c in cs))
            tokens = {c["auth"] for c in slack.calls("api")}
            assert tokens == {f"Bearer {OLD_TOKEN}"}, tokens

            _write_env_file(env_file, NEW_TOKEN, sandbox)
            seen = len(slack.calls("api"))
            bot.send_signal(signal.SIGHUP)

            def new_token_used() -> bool:
                # Each request after the re-read checks the new token with auth.test before it is answered.
                send_signed(
                    url, command_body("2125558383", response_url=slack.response_url("after")), RELIABILITY_SIGNING
                )
                return any(c["auth"] == f"Bearer {NEW_TOKEN}" for c in slack.calls("api")[seen:])

            wait_until(new_token_used, what="a Web API call with the new bot token after SIGHUP")
            assert bot.poll() is None  # still serving: nothing restarted
            later = slack.calls("api")[seen:]
            first_new = next(i for i, c in enumerate(later) if c["auth"] == f"Bearer {NEW_TOKEN}")
            assert all(c["auth"] == f"Bearer {NEW_TOKEN}" for c in later[first_new:])
            send_signed(url, command_body("2125558383", response_url=slack.response_url("last")), RELIABILITY_SIGNING)
            slack.wait_for(lambda cs: any(c["name"] == "last" for c in cs))  # lookups still answered
        finally:
            stop(bot)
            err = bot.stderr.read() if bot.stderr else ""
    assert "secrets re-read: SLACK_BOT_TOKEN changed" in err
    assert OLD_TOKEN not in err and NEW_TOKEN not in err


def test_a_refused_consumer_key_is_read_once_more_before_failing(sandbox, monkeypatch, tmp_path):
    from nextcaller_ops.client.client import NextCallerClient

    monkeypatch.setenv("NEXTCALLER_BASE_URL", sandbox.url)
    monkeypatch.setenv("NEXTCALLER_OPS_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "EXPIREDKEY0000000001")  # the sandbox's expired key (1049)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", sandbox.consumer_secret)
    with NextCallerClient(sleep=lambda s: None) as client:
        with pytest.raises(errors.ExpiredConsumerKeyError):  # nothing new to read: one re-read, then the error
            client.lookup("2125558383")
        assert client.transport.requests_sent == 1

        monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", sandbox.consumer_key)  # the admin rotated the key
        result = client.lookup("3125550142")
        assert result.profiles and client.transport.requests_sent == 3  # refused once, then the new key
        assert client.credentials.consumer_key == sandbox.consumer_key
        assert client.lookup("2125558383").profiles and client.transport.requests_sent == 4  # no more refusals


def test_sighup_in_socket_mode_swaps_the_bot_token_and_the_json_log_says_so(tmp_path):
    from bot.standin.socket_server import FakeSocketMode
    from tests.support.socketkit import APP_TOKEN, SocketBot, socket_env

    with (
        Sandbox(records=5, db=tmp_path / "api.sqlite3") as sandbox,
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
    ):
        env_file = tmp_path / "nextcaller-ops.env"
        _write_env_file(env_file, OLD_TOKEN, sandbox)
        env = socket_env(sandbox, slack, tmp_path / "bot", NEXTCALLER_OPS_LOG_FORMAT="json")
        env.pop("SLACK_BOT_TOKEN")
        env["NEXTCALLER_OPS_ENV_FILE"] = str(env_file)
        bot = SocketBot(env, sm, tmp_path / "bot.err")
        try:
            bearer = {f"Bearer {OLD_TOKEN}", f"Bearer {NEW_TOKEN}"}
            assert {c["auth"] for c in slack.calls("api") if c["auth"] in bearer} == {f"Bearer {OLD_TOKEN}"}
            _write_env_file(env_file, NEW_TOKEN, sandbox)
            seen = len(slack.calls("api"))
            bot.proc.send_signal(signal.SIGHUP)

            def new_token_used() -> bool:
                envelope = sm.command("2125558383", response_url=slack.response_url("sock"))
                sm.wait_ack(envelope)
                return any(c["auth"] == f"Bearer {NEW_TOKEN}" for c in slack.calls("api")[seen:])

            wait_until(new_token_used, what="a Web API call with the new bot token after SIGHUP (Socket Mode)")
            assert bot.proc.poll() is None and bot.link.state == "open"  # the same connection, still serving
        finally:
            assert bot.terminate() == 0
    err = bot.stderr()
    assert OLD_TOKEN not in err and NEW_TOKEN not in err
    messages = [json.loads(line)["message"] for line in err.splitlines() if line.strip()]  # every line JSON
    assert "secrets re-read: SLACK_BOT_TOKEN changed" in messages
