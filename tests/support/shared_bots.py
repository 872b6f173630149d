"""Several real bot processes sharing PostgreSQL and Redis: their environment and Slack's requests to them.

Used by the multi-process tests (``tests/bot/test_shared_bots.py``), the gunicorn
test and ``bench/shared.py``.  Each process is ``nextcaller-ops bot --http`` (or a
gunicorn worker) pointed at the sandbox, a local fake Slack, one schema and one
Redis key prefix.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from bot import blocks as bk
from bot import modal
from bot.standin.payloads import block_actions, command_body, interaction_body, send_signed, view_submission
from bot.standin.web_api import FakeSlack

from .common import PATIENCE
from .secrets import RELIABILITY_BOT_TOKEN as BOT_TOKEN
from .secrets import RELIABILITY_SIGNING as SIGNING

__all__ = ["shared_bot_env", "Slack", "SIGNING"]


def shared_bot_env(sandbox, slack: FakeSlack, root: Path, database_url: str, redis_url: str, prefix: str, **extra):
    """The environment of a bot process in the shared set-up (``extra``: more NEXTCALLER_OPS_* settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_BASE_URL=sandbox.url,
        NEXTCALLER_CONSUMER_KEY=sandbox.consumer_key,
        NEXTCALLER_CONSUMER_SECRET=sandbox.consumer_secret,
        NEXTCALLER_OPS_DATA_DIR=str(root / "data"),
        NEXTCALLER_OPS_CONFIG_DIR=str(root / "cfg"),
        NEXTCALLER_OPS_DATABASE_URL=database_url,
        NEXTCALLER_OPS_REDIS_URL=redis_url,
        NEXTCALLER_OPS_REDIS_PREFIX=prefix,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING,
        SLACK_API_URL=slack.api_url,
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Slack:
    """Slack's side of the conversation with bots at any URL, recorded by one :class:`FakeSlack`."""

    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self._n = 0

    def _name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}{self._n}"

    def command(self, url: str, text: str, user: str = "U0AGENT001", *, trigger: str = "1337.42.abcd"):
        """``/caller text``; returns (HTTP response, the response_url's name)."""
        name = self._name("cmd")
        body = command_body(text, response_url=self.fake.response_url(name), user_id=user, trigger_id=trigger)
        return send_signed(url, body, SIGNING), name

    def card(self, url: str, text: str, user: str = "U0AGENT001", timeout: float = PATIENCE) -> dict[str, Any]:
        resp, name = self.command(url, text, user)
        assert resp.status_code == 200, resp.text
        calls = self.fake.wait_for(lambda cs: any(c["kind"] == "response" and c["name"] == name for c in cs), timeout)
        return next(c["args"] for c in calls if c["kind"] == "response" and c["name"] == name)

    def correction_view(self, url: str, profile_id: str, phone: str, user: str = "U0AGENT001") -> dict[str, Any]:
        """Click "Suggest a correction" on a card: the modal the bot opens (views.open)."""
        before = len(self.fake.calls(name="views.open"))
        click = block_actions(
            bk.ACTION_SUGGEST,
            json.dumps({"id": profile_id, "phone": phone}),
            response_url=self.fake.response_url(self._name("btn")),
            user=user,
        )
        send_signed(url, interaction_body(click), SIGNING)
        calls = self.fake.wait_for(lambda cs: sum(c["name"] == "views.open" for c in cs) > before, PATIENCE)
        return [c for c in calls if c["name"] == "views.open"][-1]["args"]["view"]

    @staticmethod
    def submission(view: dict[str, Any], view_id: str, user: str = "U0AGENT001", **changes: str) -> str:
        """The view_submission body for ``view`` with ``changes`` (field name → new value)."""
        typed = {modal.field_block_id(field): value for field, value in changes.items()}
        payload = view_submission(view, typed, view_id=view_id, user=user)
        return interaction_body(payload)

    @staticmethod
    def home_opened(event_id: str, user: str = "U0AGENT001") -> str:
        """An Events API delivery of app_home_opened (the same ``event_id`` is the same delivery)."""
        return json.dumps(
            {
                "token": "x",
                "team_id": "T0000000001",
                "api_app_id": "A0APP00001",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME0001", "tab": "home"},
            }
        )

    @staticmethod
    def send(url: str, body: str, **headers: str) -> requests.Response:
        content_type = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
        return send_signed(url, body, SIGNING, content_type=content_type, headers=headers or None)
