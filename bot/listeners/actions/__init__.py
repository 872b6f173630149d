"""The buttons on a private card: Refresh, Share in channel, Suggest correction."""

from __future__ import annotations

from slack_bolt import App

from ... import blocks
from .refresh import refresh_card
from .share import share_card
from .suggest import open_correction_modal


def register(app: App) -> None:
    app.action(blocks.ACTION_REFRESH)(refresh_card)
    app.action(blocks.ACTION_SHARE)(share_card)
    app.action(blocks.ACTION_SUGGEST)(open_correction_modal)
