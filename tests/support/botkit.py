"""The bot for tests: its settings and client against the sandbox, Slack's payloads, and
a running bot (the real Bolt app over HTTP) with a local fake Slack."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from bot.app import build_app
from bot.run import serve_http
from bot.services import build_services
from bot.settings import BotSettings
from bot.standin.payloads import block_actions, command_body, event_body, interaction_body, send_signed, view_submission
from bot.standin.web_api import FakeSlack
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials

from .common import PATIENCE
from .secrets import BOT_SIGNING_SECRET as SIGNING_SECRET
from .secrets import BOT_TOKEN

AGENT, TRIAGE = "U0AGENT001", "C0TRIAGE01"


def bot_settings(data_dir, slack_api_url: str | None = None, **overrides: Any) -> BotSettings:
    """The test bot's settings: the suite's Slack secrets, a fast outbox retry, ``overrides`` on top."""
    base = BotSettings(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        slack_api_url=slack_api_url,
        data_dir=data_dir,
        outbox_retry_seconds=0.2,
    )
    return replace(base, **overrides)


def sandbox_client(sandbox, api_version: str = "v2") -> NextCallerClient:
    """A core client for the sandbox: one retry, no sleeping between retries (v2.1: HTTP Basic)."""
    settings = load_settings(base_url=sandbox.url, max_retries=1, timeout=5, api_version=api_version)
    return NextCallerClient(
        Credentials(sandbox.consumer_key, sandbox.consumer_secret, source="explicit", auth=settings.auth),
        settings,
        sleep=lambda s: None,
    )


class RunningBot:
    def __init__(self, sandbox, slack: FakeSlack, data_dir, **overrides: Any):
        self.sandbox = sandbox
        self.slack = slack
        self.settings = bot_settings(data_dir, slack.api_url, **overrides)
        self.client = sandbox_client(sandbox)
        self.services = build_services(self.settings, self.client)
        self.app = build_app(self.settings, self.client, services=self.services)
        self.server = serve_http(self.app, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        self._n = 0
        self._served = True
        self._closed = False

    def drain(self) -> None:
        """Stop taking requests and wait until every listener started so far has finished.

        After this, what the bot did is all there is to see: a test can assert that
        something did *not* happen without waiting for a while.
        """
        if self._served:
            self._served = False
            self.server.shutdown()
            self.server.server_close()
        self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.services.triage_pool.close(timeout=60)  # watched messages' lookups run on a pool of their own

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.drain()
        self.services.close()
        self.client.close()

    # -- Slack's side ---------------------------------------------------------------------
    def response_url(self) -> tuple[str, str]:
        self._n += 1
        name = f"r{self._n}"
        return name, self.slack.response_url(name)

    def command(
        self,
        text: str,
        *,
        user: str = AGENT,
        channel: str = TRIAGE,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ):
        name, url = self.response_url()
        resp = send_signed(
            self.url,
            command_body(text, response_url=url, user_id=user, channel_id=channel),
            secret,
            timestamp=timestamp,
        )
        return resp, name

    def responses(self, name: str, count: int = 1, timeout: float = PATIENCE) -> list[dict[str, Any]]:
        calls = self.slack.wait_for(
            lambda cs: sum(1 for c in cs if c["kind"] == "response" and c["name"] == name) >= count, timeout
        )
        return [c["args"] for c in calls if c["kind"] == "response" and c["name"] == name]

    def card(self, text: str, **kw: Any) -> dict[str, Any]:
        resp, name = self.command(text, **kw)
        assert resp.status_code == 200, resp.text
        return self.responses(name)[0]

    def click(self, action_id: str, value: str, *, user: str = AGENT, channel: str = TRIAGE, headers=None):
        name, url = self.response_url()
        payload = block_actions(action_id, value, response_url=url, user=user, channel=channel)
        return send_signed(self.url, interaction_body(payload), SIGNING_SECRET, headers=headers), name

    def submit(
        self,
        view: dict[str, Any],
        values: dict[str, str],
        *,
        user: str = AGENT,
        view_id: str = "V0MODAL0001",
        headers=None,
    ):
        payload = view_submission(view, values, view_id=view_id, user=user)
        return send_signed(self.url, interaction_body(payload), SIGNING_SECRET, headers=headers)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry: int = 0):
        """An ``event_callback`` as Slack delivers it; ``retry`` > 0 adds Slack's retry headers."""
        body = event_body(event, event_id=event_id)
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return send_signed(self.url, body, SIGNING_SECRET, content_type="application/json", headers=headers)

    def shortcut(self, text: str, *, user: str = AGENT, channel: str = TRIAGE):
        name, url = self.response_url()
        payload = {
            "type": "message_action",
            "callback_id": "nc_lookup_message",
            "trigger_id": "trig.sc",
            "response_url": url,
            "team": {"id": "T0000000001"},
            "channel": {"id": channel, "name": "triage"},
            "user": {"id": user, "name": "agent"},
            "message": {"type": "message", "text": text, "ts": "1.2"},
            "message_ts": "1.2",
            "token": "legacy",
        }
        return send_signed(self.url, interaction_body(payload), SIGNING_SECRET), name
