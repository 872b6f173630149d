"""``nextcaller-ops bot --socket`` as a real child process against the Socket Mode stand-in, and the
payloads a person's clicks make."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot import modal
from bot.standin.payloads import block_actions
from bot.standin.payloads import view_submission as slack_view_submission
from bot.standin.socket_server import FakeSocketMode, Link
from bot.standin.web_api import FakeSlack

from .common import PATIENCE, ROOT, wait_until
from .secrets import BOT_TOKEN
from .secrets import SLACK_APP_LEVEL_TOKEN as APP_TOKEN

AGENT, CHANNEL = "U0AGENT001", "C0TRIAGE01"


def socket_env(sandbox: Any, slack: FakeSlack, data_dir: Path, *, app_token: str = APP_TOKEN, **extra: str) -> dict:
    """The environment a person would set: the sandbox as the API, the stand-in as Slack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_BASE_URL=sandbox.url,
        NEXTCALLER_CONSUMER_KEY=sandbox.consumer_key,
        NEXTCALLER_CONSUMER_SECRET=sandbox.consumer_secret,
        NEXTCALLER_OPS_DATA_DIR=str(data_dir),
        NEXTCALLER_OPS_CONFIG_DIR=str(data_dir / "config"),
        NEXTCALLER_OPS_OUTBOX_RETRY_SECONDS="0.5",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=slack.api_url,
        **extra,
    )
    return env


class _Exited(Exception):
    """The bot process ended while a test waited for it to connect."""


class SocketBot:
    """A bot process and the connection it holds; its stderr goes to a file (read with :meth:`stderr`)."""

    def __init__(self, env: dict, sm: FakeSocketMode, log_path: Path, *, timeout: float = PATIENCE):
        newest = max((lk.id for lk in sm.connections()), default=0)
        self.log_path = log_path
        with open(log_path, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nextcaller_ops", "bot", "--socket"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=err,
                text=True,
            )
        self.link = self._wait_link(sm, newest, timeout)

    def _wait_link(self, sm: FakeSocketMode, newest: int, timeout: float) -> Link:
        def connected() -> Link:
            if self.proc.poll() is not None:  # it exited: no point waiting for the deadline
                raise _Exited
            return sm.wait_connections(1, newer_than=newest, timeout=0.2)[0]

        try:
            return wait_until(connected, what="connection", deadline=timeout, interval=0, ignoring=(TimeoutError,))
        except (_Exited, AssertionError):
            self.stop()
            raise AssertionError(f"the bot did not connect (exit {self.proc.returncode}): {self.stderr()}") from None

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = PATIENCE) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(PATIENCE)


def until(predicate: Any, what: str, timeout: float = PATIENCE) -> None:
    """Poll ``predicate`` (state outside the stand-ins, e.g. the sandbox's counters) until it holds
    (:func:`tests.support.common.wait_until`)."""
    wait_until(predicate, what=what, deadline=timeout)


def button_click(card: dict[str, Any], action_id: str, *, response_url: str, user: str = AGENT) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when ``user`` presses ``action_id`` on ``card``."""
    button = next(
        e
        for b in card.get("blocks", [])
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    return block_actions(button["action_id"], button["value"], response_url=response_url, user=user, channel=CHANNEL)


def view_submission(
    view: dict[str, Any], changes: dict[str, str], *, view_id: str, user: str = AGENT
) -> dict[str, Any]:
    """The ``view_submission`` payload for ``view`` with each input as shown, ``changes`` (field -> value) typed in."""
    typed = {modal.field_block_id(name): value for name, value in changes.items()}
    return slack_view_submission(view, typed, view_id=view_id, user=user)
