"""``bot --http`` is a development server: it binds loopback unless ``--host`` says otherwise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from bot.standin.web_api import FakeSlack
from nextcaller_ops.cli.main import build_parser
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import ROOT, wait_until
from tests.support.procs import answers_healthz, free_port, stop
from tests.support.secrets import RELIABILITY_BOT_TOKEN, RELIABILITY_SIGNING


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (the one a route to the outside leaves from), if any."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent (UDP connect only picks a route)
        address = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if address.startswith("127.") else address


def test_the_default_host_is_loopback():
    args = build_parser().parse_args(["bot", "--http"])
    assert args.host == "127.0.0.1"
    assert build_parser().parse_args(["bot", "--http", "--host", "0.0.0.0"]).host == "0.0.0.0"


def test_bot_http_without_host_listens_on_loopback_only(tmp_path):
    with Sandbox(records=5, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as slack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            NEXTCALLER_BASE_URL=sandbox.url,
            NEXTCALLER_CONSUMER_KEY=sandbox.consumer_key,
            NEXTCALLER_CONSUMER_SECRET=sandbox.consumer_secret,
            NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "bot"),
            NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "cfg"),
            SLACK_BOT_TOKEN=RELIABILITY_BOT_TOKEN,
            SLACK_SIGNING_SECRET=RELIABILITY_SIGNING,
            SLACK_API_URL=slack.api_url,
        )
        port = free_port()
        bot = subprocess.Popen(
            [sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--port", str(port)],  # no --host
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: bot.poll() is not None or answers_healthz(f"http://127.0.0.1:{port}"),
                what="the bot's /healthz on 127.0.0.1",
            )
            assert bot.poll() is None, bot.stderr.read() if bot.stderr else ""
            outside = _outside_address()
            if outside:  # the same port on the machine's other address: nobody listens there
                probe = socket.socket()
                probe.settimeout(5)
                try:
                    assert probe.connect_ex((outside, port)) != 0
                finally:
                    probe.close()
        finally:
            stop(bot)
            err = bot.stderr.read() if bot.stderr else ""
    assert f"HTTP on http://127.0.0.1:{port}/slack/events" in err
