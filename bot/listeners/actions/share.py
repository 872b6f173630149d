"""Share in channel: post the card for everyone, email and street hidden unless the channel is cleared.

Where the bot cannot post (not invited, the channel gone, any Slack error) the
agent is told privately what to do, and the failure is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse
from nextcaller_ops.audit import asking
from nextcaller_ops.redact import mask_phone

from ... import blocks, messages
from ...answers import error_answer
from ...services import services_from
from ._button import button_value, pressed_by

log = logging.getLogger("bot")


def slack_error(exc: SlackClientError) -> str:
    """Slack's error code (``not_in_channel``) or the kind of failure, for the audit log and the words."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "slack_error")
    return type(exc).__name__


def share_card(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    value = button_value(body)
    user_id, channel_id = pressed_by(body)
    if not value or not channel_id:
        return
    services = services_from(context)
    phone = parse(value["phone"])
    try:
        # the card was just shown: the cache has it (else counted on the presser's limit by the gate); the
        # share's own row below is this read's audit
        with asking(user_id=user_id, channel_id=channel_id, action="share", audited=False):
            result = services.client.lookup(phone)
    except errors.NextCallerError as exc:
        respond(response_type="ephemeral", replace_original=False, text=error_answer(exc, "share").text)
        return
    redact = services.policy.redact_shared(channel_id)
    shown = [p for p in result.profiles if p.id == value.get("id")] or list(result.profiles)
    try:
        client.chat_postMessage(
            channel=channel_id,
            text=blocks.card_text(shown, mask_phone(phone.number) if redact else phone.number),
            blocks=blocks.profile_cards(shown, phone.number, redact=redact, buttons=False, shared_by=user_id),
        )
    except SlackClientError as exc:
        error = slack_error(exc)
        log.warning("share in %s failed: %s", channel_id, error)
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action="share", phone=phone.number, outcome=f"failed: {error}"
        )
        respond(response_type="ephemeral", replace_original=False, text=messages.cannot_post(error))
        return
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="share",
        phone=phone.number,
        outcome="redacted" if redact else "full",
    )
    respond(response_type="ephemeral", replace_original=False, text=messages.shared(redact))
