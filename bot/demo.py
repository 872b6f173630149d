"""The Slack part of ``nextcaller-ops demo``: /caller through the real Bolt pipeline.

A signed slash-command request goes over HTTP to the bot's /slack/events, the
bot acks, looks the number up in the sandbox and responds to a local stand-in
for Slack, whose recorded message is printed here as text.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SIGNING_SECRET = "demo-signing-secret-0123456789"


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"┃ {block['text']['text']}")
        elif kind == "section":
            if "text" in block:
                lines.append("┃ " + block["text"]["text"].replace("\n", "\n┃ "))
            for field in block.get("fields", []):
                label, _, value = field["text"].partition("\n")
                lines.append(f"┃ {label.strip('*'):<16} {value}")
        elif kind == "context":
            lines.append("┃ " + " ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "actions":
            lines.append("┃ " + "  ".join(f"[{e['text']['text']}]" for e in block["elements"]))
        elif kind == "divider":
            lines.append("┣" + "━" * 40)
    return "\n".join(lines)


def run_bot_demo(sandbox: Any) -> int:
    from nextcaller_ops.client import NextCallerClient
    from nextcaller_ops.config import load_settings
    from nextcaller_ops.credentials import Credentials

    from .app import build_app
    from .fakeslack import FakeSlack, command_body, send_signed
    from .run import serve_http
    from .services import build_services
    from .settings import BotSettings

    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="nextcaller-bot-demo-") as data:
        settings = BotSettings(
            bot_token="demo-bot-token-for-the-local-fake-slack",
            signing_secret=SIGNING_SECRET,
            slack_api_url=slack.api_url,
            data_dir=Path(data),
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
            calls = slack.wait_for(lambda cs: any(c["kind"] == "response" for c in cs), timeout=15)
            card = next(c for c in calls if c["kind"] == "response")["args"]
            print(
                f"card ({card.get('response_type')}), {(time.perf_counter() - started) * 1000:.0f} ms after the command:"
            )
            print(blocks_as_text(card.get("blocks") or []))
            forged = send_signed(url, command_body("2125558383", response_url=slack.response_url("x")), "wrong")
            print(f"a forged request: HTTP {forged.status_code}")
            ok = ack.status_code == 200 and "Jerry Seinfeld" in str(card) and forged.status_code == 401
        finally:
            server.shutdown()
            server.server_close()
            services.close()
            client.close()
    return 0 if ok else 1
