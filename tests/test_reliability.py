"""Crash safety, secrets and PII in logs, the persistent cache, what the CLI imports."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time

import pytest
import requests

from bot import blocks as bk
from bot.fakeslack import FakeSlack, command_body, interaction_body, send_signed
from nextcaller_ops.sandbox import Sandbox

from .conftest import ROOT, SEINFELD_ID, run_cli

SIGNING = "reliability-signing-secret-42"
BOT_TOKEN = "xoxb-111111111111-reliability-token"


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _start_bot(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("bot did not start: " + (proc.stderr.read() if proc.stderr else ""))


@pytest.mark.timeout(120)
def test_outbox_survives_kill_9_mid_delivery_and_delivers_exactly_once(tmp_path):
    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(NEXTCALLER_BASE_URL=sandbox.url, NEXTCALLER_CONSUMER_KEY=sandbox.consumer_key,
                   NEXTCALLER_CONSUMER_SECRET=sandbox.consumer_secret, NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "bot"),
                   NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "cfg"), SLACK_BOT_TOKEN=BOT_TOKEN,
                   SLACK_SIGNING_SECRET=SIGNING, SLACK_API_URL=slack.api_url)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/slack/events"
        bot = _start_bot(env, port)
        try:
            send_signed(url, command_body("2125558383", response_url=slack.response_url("c")), SIGNING)
            slack.wait_for(lambda cs: any(c["kind"] == "response" for c in cs))
            click = {"type": "block_actions", "user": {"id": "U0AGENT001"}, "team": {"id": "T0000000001"},
                     "api_app_id": "A0APP00001", "token": "x", "trigger_id": "t.1", "channel": {"id": "C0TRIAGE01"},
                     "response_url": slack.response_url("b"),
                     "actions": [{"type": "button", "action_id": bk.ACTION_SUGGEST, "block_id": "nc_actions_0",
                                  "value": json.dumps({"id": SEINFELD_ID, "phone": "2125558383"}), "action_ts": "1"}]}
            send_signed(url, interaction_body(click), SIGNING)
            calls = slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
            view = [c for c in calls if c["name"] == "views.open"][0]["args"]["view"]
            state = {"values": {b["block_id"]: {"value": {"type": "plain_text_input", "value": b["element"].get(
                "initial_value")}} for b in view["blocks"] if b["type"] == "input"}}
            state["values"][bk.field_block_id("first_name")]["value"]["value"] = "Jerome"
            submission = {"type": "view_submission", "team": {"id": "T0000000001"}, "user": {"id": "U0AGENT001"},
                          "api_app_id": "A0APP00001", "token": "x", "trigger_id": "t.2",
                          "view": {**view, "id": "V0KILL0001", "state": state}}

            sandbox.latency_ms = 1500  # the POST will be in flight when the bot dies
            send_signed(url, interaction_body(submission), SIGNING)
            deadline = time.monotonic() + 20
            while not sandbox.httpd.received.get("POST") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sandbox.httpd.received.get("POST") == 1
            bot.send_signal(signal.SIGKILL)
            bot.wait(timeout=10)
        finally:
            if bot.poll() is None:
                bot.kill()
        # The API received the POST and applies it although nobody is left to hear the answer.
        deadline = time.monotonic() + 10
        while not sandbox.store.corrections(SEINFELD_ID) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sandbox.store.corrections(SEINFELD_ID)) == 1
        outbox = sqlite3.connect(tmp_path / "bot" / "outbox.sqlite3")
        assert outbox.execute("SELECT status FROM outbox").fetchall() == [("delivering",)]
        outbox.close()

        sandbox.latency_ms = 0
        bot = _start_bot(env, port)
        try:
            slack.wait_for(lambda cs: any(c["name"] == "chat.postMessage" and "delivered" in c["args"].get("text", "")
                                          for c in cs), timeout=30)
        finally:
            bot.terminate()
            bot.wait(timeout=10)
        assert [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)] == [{"first_name": "Jerome"}]
        outbox = sqlite3.connect(tmp_path / "bot" / "outbox.sqlite3")
        assert outbox.execute("SELECT status, attempts FROM outbox").fetchall() == [("delivered", 2)]
        outbox.close()
        # the re-delivery was signed anew: no nonce was sent twice
        nonces = [r["nonce"] for r in sandbox.httpd.signed_requests]
        assert len(nonces) == len(set(nonces))


def test_bolt_refusal_logs_mask_the_number(api_env, caplog, tmp_path):
    from .botkit import RunningBot

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


def test_persistent_cache_is_private_shared_and_clearable(api_env, tmp_path, capsys):
    from nextcaller_ops.cli import main

    path = tmp_path / "cache" / "lookups.sqlite3"
    os.environ["NEXTCALLER_CACHE_PATH"] = str(path)
    try:
        assert main(["lookup", "2125558383"]) == 0
        assert main(["lookup", "2125558383"]) == 0  # a second CLI run: served from the file
        assert api_env.httpd.request_count == 1
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert main(["cache", "clear"]) == 0
        assert "Cleared 1" in capsys.readouterr().out
        assert main(["lookup", "2125558383"]) == 0
        assert api_env.httpd.request_count == 2
    finally:
        del os.environ["NEXTCALLER_CACHE_PATH"]


def test_cli_imports_no_front_end_it_does_not_use():
    code = ("import sys, runpy; sys.argv = ['nextcaller-ops', '--help'];\n"
            "try:\n    runpy.run_module('nextcaller_ops', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "from nextcaller_ops import client, cli\n"
            "print('heavy:' + ','.join(m for m in ('IPython', 'slack_bolt', 'slack_sdk', 'pandas', 'tqdm') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "usage: nextcaller-ops" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "heavy:"


def test_sandbox_logs_no_phone_numbers(sandbox, caplog):
    from requests_oauthlib import OAuth1

    with caplog.at_level(logging.DEBUG, logger="nextcaller_ops.sandbox"):
        requests.get(sandbox.url + "/v2/records/", params={"phone": "2125558383", "format": "json"},
                     auth=OAuth1(sandbox.consumer_key, sandbox.consumer_secret), timeout=10)
    assert "/v2/records/" in caplog.text and "2125558383" not in caplog.text


def test_status_output_masks_the_key_and_never_shows_the_secret(api_env):
    proc = run_cli("status")
    assert "EG2D…3SE3" in proc.stdout and api_env.consumer_secret not in proc.stdout + proc.stderr


def test_cli_lookups_and_corrections_are_audited(api_env, isolated_env, capsys):
    import getpass

    from nextcaller_ops.audit import AuditLog
    from nextcaller_ops.cli import main

    assert main(["lookup", "2125558383", "2025550999"]) == 1
    assert main(["lookup", "12"]) == 2  # refused before any request: nothing to audit
    assert main(["update", SEINFELD_ID, "--set", "first_name=Jerome"]) == 0
    path = isolated_env / "data" / "audit.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entries = AuditLog(path).entries()
    assert [(e["action"], e["phone"], e["outcome"]) for e in entries] == [
        ("lookup", "2125558383", "found 1"), ("lookup", "2025550999", "no record"), ("correction", None, "sent")]
    assert {e["user_id"] for e in entries} == {f"os:{getpass.getuser()}"}
    assert {e["channel_id"] for e in entries} == {"cli"}
    assert entries[2]["detail"] == f"{SEINFELD_ID}: first_name"
