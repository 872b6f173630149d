"""Share in channel: post the card for everyone, email and street hidden unless the channel is cleared."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from nextcaller_ops import errors
from nextcaller_ops.phone import parse
from nextcaller_ops.redact import mask_phone

from ... import blocks, messages
from ...answers import error_answer
from ...services import services_from
from ._button import button_value, pressed_by


def share_card(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    value = button_value(body)
    user_id, channel_id = pressed_by(body)
    if not value or not channel_id:
        return
    services = services_from(context)
    phone = parse(value["phone"])
    reason = services.policy.refusal(user_id, channel_id)
    if reason:
        respond(response_type="ephemeral", replace_original=False, text=messages.refusal(reason))
        return
    try:
        result = services.client.lookup(phone)  # the card was just shown: the cache has it
    except errors.NextCallerError as exc:
        respond(response_type="ephemeral", replace_original=False, text=error_answer(exc, "share").text)
        return
    redact = services.policy.redact_shared(channel_id)
    shown = [p for p in result.profiles if p.id == value.get("id")] or list(result.profiles)
    client.chat_postMessage(
        channel=channel_id,
        text=blocks.card_text(shown, mask_phone(phone.number) if redact else phone.number),
        blocks=blocks.profile_cards(shown, phone.number, redact=redact, buttons=False, shared_by=user_id),
    )
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="share",
        phone=phone.number,
        outcome="redacted" if redact else "full",
    )
    respond(response_type="ephemeral", replace_original=False, text=messages.shared(redact))
