"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from ... import modal
from .correction import correction_submitted
from .verify import verify_submitted


def register(app: App) -> None:
    app.view(modal.CORRECTION_CALLBACK)(correction_submitted)
    app.view(modal.VERIFY_CALLBACK)(verify_submitted)
