"""Shortcuts."""

from __future__ import annotations

from slack_bolt import App

from ... import blocks
from .lookup_message import lookup_message


def register(app: App) -> None:
    app.shortcut(blocks.SHORTCUT_CALLBACK)(lookup_message)
