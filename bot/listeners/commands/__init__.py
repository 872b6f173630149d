"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from .caller import caller_command


def register(app: App) -> None:
    app.command("/caller")(caller_command)
