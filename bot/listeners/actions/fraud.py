"""Fraud check (API v2.1): the number's fraud level, privately, under the card."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.api.phone import parse

from ...answers import fraud_answer
from ...services import services_from
from ._button import button_value, pressed_by


def check_fraud(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    value = button_value(body)
    user_id, channel_id = pressed_by(body)
    if not value:
        return
    services = services_from(context)
    phone = parse(value["phone"])
    answer = fraud_answer(services, phone, user_id=user_id, channel_id=channel_id)  # counted by the gate
    respond(replace_original=False, response_type="ephemeral", text=answer.text, blocks=answer.blocks)
