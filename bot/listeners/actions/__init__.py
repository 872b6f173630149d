"""The buttons: a private card's (Refresh, Share in channel, Suggest correction, v2.1's Fraud check) and a triage reply's."""

from __future__ import annotations

from slack_bolt import App

from ... import blocks
from ...triage import cards
from ..commands.forget import ACTION_FORGET, ACTION_FORGET_CANCEL
from .forget import forget_cancelled, forget_confirmed
from .fraud import check_fraud
from .refresh import refresh_card
from .share import share_card
from .suggest import open_correction_modal
from .triage import change_item, look_up_now, show_full_card
from .triage_life import change_life
from .verify import verify_from_card, verify_from_triage


def register(app: App) -> None:
    app.action(blocks.ACTION_REFRESH)(refresh_card)
    app.action(blocks.ACTION_SHARE)(share_card)
    app.action(blocks.ACTION_SUGGEST)(open_correction_modal)
    app.action(blocks.ACTION_FRAUD)(check_fraud)
    app.action(cards.ACTION_FULL_CARD)(show_full_card)
    for action_id in (cards.ACTION_CLAIM, cards.ACTION_RELEASE, cards.ACTION_RESOLVE, cards.ACTION_FLAG):
        app.action(action_id)(change_item)
    app.action(cards.ACTION_LOOKUP)(look_up_now)
    for action_id in (cards.ACTION_SNOOZE, cards.ACTION_DROP, cards.ACTION_REOPEN):
        app.action(action_id)(change_life)
    app.action(blocks.ACTION_VERIFY)(verify_from_card)
    app.action(cards.ACTION_VERIFY)(verify_from_triage)
    app.action(ACTION_FORGET)(forget_confirmed)  # /caller forget's question (admins only, checked again)
    app.action(ACTION_FORGET_CANCEL)(forget_cancelled)
