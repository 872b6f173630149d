"""NEXTCALLER_OPS_LOG_FORMAT=json: a real bot process writes one JSON object per line, with its context, no secret."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from bot.standin.payloads import command_body, send_signed
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import ROOT, wait_until
from tests.support.procs import answers_healthz, free_port, start_http_bot, stop
from tests.support.secrets import RELIABILITY_BOT_TOKEN as BOT_TOKEN
from tests.support.secrets import RELIABILITY_SIGNING as SIGNING
from tests.support.secrets import all_secrets

KEYS = {"timestamp", "level", "logger", "message", "surface", "user_id", "channel_id", "request_id"}


def _bot_env(tmp_path, sandbox, slack, **extra: str) -> dict[str, str]:
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
        **extra,
    )
    return env


def test_json_logs_of_a_real_bot_parse_carry_the_request_context_and_no_secret(tmp_path):
    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env = _bot_env(tmp_path, sandbox, slack, NEXTCALLER_OPS_LOG_FORMAT="json")
        port = free_port()
        bot = start_http_bot(env, port)
        try:
            body = command_body(
                "2125558383", response_url=slack.response_url("c"), user_id="U0LOGS0001", channel_id="C0LOGS0001"
            )
            send_signed(f"http://127.0.0.1:{port}/slack/events", body, SIGNING)
            slack.wait_for(lambda cs: any(c["kind"] == "response" for c in cs))
            # a request the signature check refuses: Bolt logs its body (which names the number) at INFO
            send_signed(f"http://127.0.0.1:{port}/slack/events", body, "forged-signing-secret")
        finally:
            stop(bot)
            err = bot.stderr.read() if bot.stderr else ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "the bot logged nothing"
    records = []
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert record.keys() >= KEYS, line
        assert record["surface"] == "bot"
        records.append(record)
    lookups = [r for r in records if r["message"].startswith("lookup 212***8383")]
    assert lookups, [r["message"] for r in records]
    assert lookups[0]["user_id"] == "U0LOGS0001" and lookups[0]["channel_id"] == "C0LOGS0001"
    assert lookups[0]["request_id"] and lookups[0]["level"] == "INFO"
    assert lookups[0]["timestamp"].endswith("Z")
    for secret in (*all_secrets(), sandbox.consumer_secret):
        assert secret not in err
    assert "2125558383" not in err


def test_json_logs_under_gunicorn_with_its_config_hold_gunicorns_own_lines_too(tmp_path, pg_schema, redis_space):
    from tests.support.shared_bots import SIGNING as SHARED_SIGNING
    from tests.support.shared_bots import shared_bot_env

    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env = shared_bot_env(
            sandbox,
            slack,
            tmp_path,
            pg_schema.url,
            redis_space.url,
            redis_space.prefix,
            NEXTCALLER_OPS_LOG_FORMAT="json",
        )
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
        env["GUNICORN_WORKERS"] = "2"
        port = free_port()
        env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: master.poll() is not None or answers_healthz(f"http://127.0.0.1:{port}"), what="gunicorn"
            )
            assert master.poll() is None
            body = command_body(
                "2125558383", response_url=slack.response_url("g"), user_id="U0GUNI0001", channel_id="C0GUNI0001"
            )
            send_signed(f"http://127.0.0.1:{port}/slack/events", body, SHARED_SIGNING)
            slack.wait_for(lambda cs: any(c["name"] == "g" for c in cs))
        finally:
            stop(master)
            err = master.stderr.read() if master.stderr else ""
    records = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON object
    assert all(record.keys() >= KEYS for record in records)
    assert any(r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records)
    lookup = next(r for r in records if r["message"].startswith("lookup 212***8383 by"))
    assert (lookup["user_id"], lookup["channel_id"], lookup["surface"]) == ("U0GUNI0001", "C0GUNI0001", "bot")
    for secret in all_secrets():
        assert secret not in err


def test_json_formatter_redacts_extra_fields_too():
    from nextcaller_ops.logs import configure_logging, log_context, remove_handler
    from nextcaller_ops.redact import register_secret

    register_secret("extra-field-secret-77aa")
    stream = io.StringIO()
    configure_logging("cli", level=logging.INFO, stream=stream, fmt="json")
    try:
        with log_context(user_id="U0EXTRA001"):
            logging.getLogger("tests.logs").info(
                "looked up %s", "2125558383", extra={"token": "extra-field-secret-77aa", "phone": "3125550142"}
            )
    finally:
        remove_handler()
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["surface"] == "cli" and record["user_id"] == "U0EXTRA001"
    assert record["message"] == "looked up 212***8383"
    assert record["token"] == "[redacted]" and record["phone"] == "312***0142"


def test_plain_format_has_a_timestamp():
    from nextcaller_ops.logs import configure_logging, remove_handler

    stream = io.StringIO()
    configure_logging("cli", level=logging.INFO, stream=stream, fmt="plain")
    try:
        logging.getLogger("tests.logs").warning("something to say")
    finally:
        remove_handler()
    # the handler is the root's: a thread an earlier test left running may log meanwhile, so read our line only
    (line,) = [ln for ln in stream.getvalue().splitlines() if "tests.logs:" in ln]
    stamp, level, rest = line.split(" ", 2)
    assert stamp[:2] == "20" and stamp.endswith("Z") and "T" in stamp
    assert (level, rest) == ("WARNING", "tests.logs: something to say")


def test_an_unknown_log_format_is_one_line(tmp_path):
    from tests.support.common import run_cli

    env = {**os.environ, "NEXTCALLER_OPS_LOG_FORMAT": "xml", "NEXTCALLER_OPS_CONFIG_DIR": str(tmp_path)}
    done = run_cli("status", env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "NEXTCALLER_OPS_LOG_FORMAT must be plain or json" in line


@pytest.fixture(autouse=True)
def _no_handler_left():
    yield
    from nextcaller_ops.logs import remove_handler

    remove_handler()
