"""Events (Bolt acknowledges them itself)."""

from __future__ import annotations

from slack_bolt import App

from .app_home import app_home_opened
from .triage_message import message_posted


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.event("message")(message_posted)  # every subtype: the listener decides what is worth a reply
