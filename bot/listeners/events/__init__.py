"""Events (Bolt acknowledges them itself)."""

from __future__ import annotations

from slack_bolt import App

from .app_home import app_home_opened


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
