"""The Slack part of ``nextcaller-ops demo``: /caller and a triage channel through the real Bolt pipeline.

A signed slash-command request goes over HTTP to the bot's /slack/events, the
bot acks, looks the number up in the sandbox and responds to a local stand-in
for Slack, whose recorded message is printed here as text.  Then a phone
system's message lands in a watched channel: the bot answers in its thread with
a caller card, and an agent claims it.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SIGNING_SECRET = "demo-signing-secret-0123456789"
TRIAGE_CHANNEL = "C0TRIAGE01"


def _label(element: dict[str, Any]) -> str:
    """A button's text; a menu's placeholder (Drop…) or, for an overflow (Snooze), its first option's text."""
    shown = element.get("text") or element.get("placeholder") or (element.get("options") or [{}])[0].get("text")
    return str((shown or {}).get("text", "⋯"))


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"┃ {block['text']['text']}")
        elif kind == "section":
            if "text" in block:
                lines.append("┃ " + block["text"]["text"].replace("\n", "\n┃ "))
            if block.get("accessory", {}).get("type") == "button":
                lines[-1] += f"   [{block['accessory']['text']['text']}]"
            for field in block.get("fields", []):
                label, _, value = field["text"].partition("\n")
                lines.append(f"┃ {label.strip('*'):<16} {value}")
        elif kind == "context":
            lines.append("┃ " + " ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "actions":
            lines.append("┃ " + "  ".join(f"[{_label(e)}]" for e in block["elements"]))
        elif kind == "divider":
            lines.append("┣" + "━" * 40)
    return "\n".join(lines)


def run_bot_demo(sandbox: Any) -> int:
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.config import load_settings
    from nextcaller_ops.credentials import Credentials

    from ..app import build_app
    from ..run import serve_http
    from ..services import build_services
    from ..settings import BotSettings
    from .payloads import command_body, send_signed
    from .web_api import FakeSlack

    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="nextcaller-bot-demo-") as data:
        settings = BotSettings(
            bot_token="demo-bot-token-for-the-local-fake-slack",
            signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
            data_dir=Path(data),
            watch_channels=frozenset({TRIAGE_CHANNEL}),
        )
        client = NextCallerClient(
            Credentials(sandbox.consumer_key, sandbox.consumer_secret, source="explicit"),
            load_settings(base_url=sandbox.url),
        )
        services = build_services(settings, client)
        app = build_app(settings, client, services=services)
        server = serve_http(app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        try:
            print(f"Bot serving {url}; Slack's side played locally at {slack.url}")
            print("/caller 2125558383  (a signed slash-command request)")
            started = time.perf_counter()
            ack = send_signed(url, command_body("2125558383", response_url=slack.response_url("demo")), SIGNING_SECRET)
            print(f"ack: HTTP {ack.status_code} in {(time.perf_counter() - started) * 1000:.0f} ms")
            calls = slack.wait_for(lambda cs: any(c["kind"] == "response" for c in cs))
            card = next(c for c in calls if c["kind"] == "response")["args"]
            print(
                f"card ({card.get('response_type')}), {(time.perf_counter() - started) * 1000:.0f} ms after the command:"
            )
            print(blocks_as_text(card.get("blocks") or []))
            forged = send_signed(url, command_body("2125558383", response_url=slack.response_url("x")), "wrong")
            print(f"a forged request: HTTP {forged.status_code}")
            ok = ack.status_code == 200 and "Jerry Seinfeld" in str(card) and forged.status_code == 401
            ok = _triage_demo(url, slack, services) and ok
        finally:
            server.shutdown()
            server.server_close()
            services.close()
            client.close()
    return 0 if ok else 1


def _triage_demo(url: str, slack: Any, services: Any) -> bool:
    """A phone system posts in a watched channel; the bot answers in the thread; an agent claims it."""
    from ..triage import cards
    from .payloads import block_actions, event_body, interaction_body, message_event, send_signed

    text = "Missed call from (212) 555-8383: caller says he was double-charged"
    ts = slack.new_ts()
    event = message_event(TRIAGE_CHANNEL, text, ts, bot_id="B0PHONESYS", subtype="bot_message", username="PhoneSystem")
    print(f"\n#triage ({TRIAGE_CHANNEL}, watched), the phone system posts: {text}")
    started = time.perf_counter()
    ack = send_signed(url, event_body(event), SIGNING_SECRET, content_type="application/json")
    posted = slack.wait_for(
        lambda cs: any(c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == ts for c in cs)
    )
    reply = next(c for c in posted if c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == ts)
    print(
        f"event ack: HTTP {ack.status_code}; the threaded reply, {(time.perf_counter() - started) * 1000:.0f} ms later:"
    )
    print(blocks_as_text(reply["args"].get("blocks") or []))

    print("\nAna (U0ANA00001) presses Claim:")
    payload = block_actions(
        cards.ACTION_CLAIM,
        cards.item_value(TRIAGE_CHANNEL, ts),
        response_url=slack.response_url("claim"),
        user="U0ANA00001",
        channel=TRIAGE_CHANNEL,
        message_ts=reply["ts"],
        trigger_id="demo.claim",
    )
    send_signed(url, interaction_body(payload), SIGNING_SECRET)
    calls = slack.wait_for(lambda cs: any(c["name"] == "chat.update" for c in cs))
    updated = next(c for c in calls if c["name"] == "chat.update")["args"]
    print(f"chat.update of the same reply (ts {updated['ts']}) — its last lines now read:")
    print("\n".join(blocks_as_text(updated.get("blocks") or []).splitlines()[-3:]))
    claimed = ack.status_code == 200 and "Jerry Seinfeld" in str(reply["args"]) and "Claimed by" in str(updated)
    return _triage_life_demo(url, slack, services, ts, reply["ts"]) and claimed


def _note_in(slack: Any, thread_ts: str, count: int = 1) -> str:
    """The ``count``-th one-line note (no blocks) the bot posted in the thread of ``thread_ts``."""

    def notes(cs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            c
            for c in cs
            if c["name"] == "chat.postMessage"
            and c["args"].get("thread_ts") == thread_ts
            and not c["args"].get("blocks")
        ]

    return str(notes(slack.wait_for(lambda cs: len(notes(cs)) >= count))[count - 1]["args"]["text"])


def _triage_life_demo(url: str, slack: Any, services: Any, ts: str, reply_ts: str) -> bool:
    """Issue 26: Verify caller during the call, a reminder two hours on, a snooze and a repeat call."""
    from ..triage import cards
    from ..triage.timers import fire_timers
    from .payloads import block_actions, event_body, interaction_body, message_event, send_signed, view_submission

    print("\nAna presses Verify caller and types what the caller says (name, ZIP):")
    payload = block_actions(
        cards.ACTION_VERIFY,
        cards.item_value(TRIAGE_CHANNEL, ts, "2125558383"),
        response_url=slack.response_url("verify"),
        user="U0ANA00001",
        channel=TRIAGE_CHANNEL,
        message_ts=reply_ts,
        trigger_id="demo.verify",
    )
    send_signed(url, interaction_body(payload), SIGNING_SECRET)
    calls = slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
    view = next(c for c in calls if c["name"] == "views.open")["args"]["view"]
    typed = {"v_name": "jerry SEINFELD", "v_zip": "10025"}
    send_signed(
        url, interaction_body(view_submission(view, typed, view_id="V0DEMO", user="U0ANA00001")), SIGNING_SECRET
    )
    calls = slack.wait_for(lambda cs: any(c["name"] == "chat.postEphemeral" for c in cs))
    verdict = next(c for c in calls if c["name"] == "chat.postEphemeral")["args"]["text"]
    print("only Ana sees:\n" + verdict.replace("*", ""))

    triage = services.triage
    later = triage.now() + 2 * 3600 + 60
    triage._clock = lambda: later  # the demo's clock jumps two hours: the claim is still open
    print("\nTwo hours later, still claimed and open (NEXTCALLER_OPS_TRIAGE_REMIND_AFTER=2h):")
    fire_timers(triage)
    reminder = _note_in(slack, ts)
    print(f"in the thread: {reminder}")

    print("\nBen snoozes it for 1 h, then the phone system posts the same number again:")
    option = cards.item_value(TRIAGE_CHANNEL, ts, s="1h")
    payload = block_actions(
        cards.ACTION_SNOOZE, option, response_url=slack.response_url("snooze"), user="U0BEN00001",
        channel=TRIAGE_CHANNEL, message_ts=reply_ts, trigger_id="demo.snooze",
    )  # fmt: skip
    payload["actions"][0] = {"type": "overflow", "action_id": cards.ACTION_SNOOZE, "selected_option": {"value": option}}
    send_signed(url, interaction_body(payload), SIGNING_SECRET)
    print(f"in the thread: {_note_in(slack, ts, 2)}")
    again = slack.new_ts()
    event = message_event(TRIAGE_CHANNEL, "Missed call from 212-555-8383 again", again, bot_id="B0PHONESYS",
                          subtype="bot_message", username="PhoneSystem")  # fmt: skip
    send_signed(url, event_body(event), SIGNING_SECRET, content_type="application/json")
    note = _note_in(slack, again)
    print(f"the bot's only answer, in that message's thread (no lookup): {note}")
    return "match" in verdict and "⏰" in reminder and "snoozed by" in note
