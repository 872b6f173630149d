"""The Socket Mode part of ``nextcaller-ops demo``: ``nextcaller-ops bot --socket`` as a real process.

Slack's side is played locally (``bot/standin/web_api.py`` for the Web API,
``bot/standin/socket_server.py`` for the WebSocket): the bot asks ``apps.connections.open``
for a URL, connects, and answers a ``/caller`` envelope and a triage channel's
message; then Slack asks it to refresh its connection, then the connection
drops, and it is answered each time on the new one; SIGTERM ends it.  The API is the demo's sandbox (the
environment the demo set up points at it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

APP_TOKEN = "xapp-demo-for-the-local-stand-in"  # the stand-in wants the xapp- prefix, as Slack does
BOT_TOKEN = "demo-bot-token-for-the-local-fake-slack"
TRIAGE = "C0TRIAGE01"


def _ask(sm: Any, slack: Any, text: str, name: str) -> tuple[Any, dict[str, Any]]:
    envelope = sm.command(text, response_url=slack.response_url(name), user_id="U0AGENT001", channel_id="C0TRIAGE01")
    ack = sm.wait_ack(envelope)
    calls = slack.wait_for(lambda cs: any(c["kind"] == "response" and c["name"] == name for c in cs))
    return ack, next(c for c in calls if c["name"] == name)["args"]


def _headline(message: dict[str, Any], line: int = 0) -> str:
    from .demo import blocks_as_text

    lines = blocks_as_text(message.get("blocks") or []).splitlines()
    return lines[line].strip("┃ ").replace("*", "") if len(lines) > line else str(message.get("text", ""))


def run_socket_demo() -> int:
    from .payloads import message_event
    from .socket_server import FakeSocketMode
    from .web_api import PATIENCE, FakeSlack

    with (
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
        tempfile.TemporaryDirectory(prefix="nextcaller-socket-demo-") as data,
    ):
        env = dict(
            os.environ,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
            NEXTCALLER_OPS_DATA_DIR=data,
            NEXTCALLER_OPS_WATCH_CHANNELS=TRIAGE,
        )
        print(f"$ SLACK_APP_TOKEN=xapp-… SLACK_API_URL={slack.api_url} nextcaller-ops bot --socket", flush=True)
        err = Path(data) / "bot.err"
        with open(err, "w") as fh:
            bot = subprocess.Popen([sys.executable, "-m", "nextcaller_ops", "bot", "--socket"], env=env, stderr=fh)
        try:
            link = sm.wait_connections(1)[0]
            print(f"the bot called apps.connections.open and connected: connection {link.id}, Slack said hello")
            ack, card = _ask(sm, slack, "2125558383", "s1")
            ms = (ack.latency or 0) * 1000
            print(f"/caller 2125558383 (a slash_commands envelope): acked in {ms:.0f} ms; the card: {_headline(card)}")

            ts = slack.new_ts()
            event = sm.event(message_event(TRIAGE, "Missed call from (212) 555-8383", ts, user="U0CALLER01"))
            ms = (sm.wait_ack(event).latency or 0) * 1000
            calls = slack.wait_for(lambda cs: any(c["args"].get("thread_ts") == ts for c in cs))
            reply = next(c["args"] for c in calls if c["args"].get("thread_ts") == ts)
            print(
                f"a message in #triage (an events_api envelope): acked in {ms:.0f} ms; in its thread: {_headline(reply, 1)}"
            )

            started = time.monotonic()
            sm.disconnect(link.id)
            fresh = sm.wait_connections(1, newer_than=link.id)[0]
            ack, card = _ask(sm, slack, "3125550142", "s2")
            print(
                f"Slack asks for a refresh (disconnect: refresh_requested): connection {fresh.id} open "
                f"{(fresh.opened_at - started) * 1000:.0f} ms later; its first envelope acked in "
                f"{(ack.latency or 0) * 1000:.0f} ms"
            )
            started = time.monotonic()
            sm.drop(fresh.id)
            third = sm.wait_connections(1, newer_than=fresh.id)[0]
            ack, card = _ask(sm, slack, "2125558383", "s3")
            print(
                f"the connection drops (no close frame): connection {third.id} after "
                f"{(third.opened_at - started) * 1000:.0f} ms; the next /caller acked in {(ack.latency or 0) * 1000:.0f} ms"
            )
            bot.terminate()
            code = bot.wait(PATIENCE)
            how = "with a close frame" if third.closed_by == "bot" else f"({third.closed_by or 'still open'})"
            print(f"SIGTERM: the bot closed its socket {how} and exited {code}")
            acks_once = all(len(sm.acks(a.envelope_id)) == 1 for a in sm.acks())
            ok = code == 0 and third.closed_by == "bot" and acks_once and "Seinfeld" in str(card) + str(reply)
        except (TimeoutError, subprocess.TimeoutExpired) as exc:
            print(f"the Socket Mode step failed: {exc}\n{err.read_text()}", file=sys.stderr)
            ok = False
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait(PATIENCE)
    return 0 if ok else 1
