"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from ... import blocks
from .correction import correction_submitted


def register(app: App) -> None:
    app.view(blocks.CORRECTION_CALLBACK)(correction_submitted)
