"""Refresh: look the number up again past the cache and replace the card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.api.phone import parse

from ...answers import lookup_answer
from ...services import services_from
from ._button import button_value, pressed_by


def refresh_card(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    value = button_value(body)
    user_id, channel_id = pressed_by(body)
    if not value:
        return
    services = services_from(context)
    phone = parse(value["phone"])
    # counted on the presser's per-minute limit by the gate (bot.gate), before this listener ran
    answer = lookup_answer(services, phone, user_id=user_id, channel_id=channel_id, action="refresh", refresh=True)
    respond(replace_original=True, response_type="ephemeral", text=answer.text, blocks=answer.blocks)
