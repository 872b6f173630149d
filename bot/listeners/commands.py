"""/caller PHONE — ack at once, then the private card via respond()."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nextcaller_ops.errors import InvalidPhoneError
from nextcaller_ops.phone import parse

from .. import blocks
from .common import lookup_answer, policy_refusal, rate_refusal

if TYPE_CHECKING:
    from slack_bolt import App

    from ..app import Services


def register(app: App, services: Services) -> None:
    @app.command("/caller")
    def caller_command(ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        text = (command.get("text") or "").strip()
        user_id, channel_id = command.get("user_id"), command.get("channel_id")
        if not text or text.lower() in ("help", "-h", "--help", "?"):
            ack(response_type="ephemeral", text=blocks.USAGE, blocks=blocks.usage_blocks())
            return
        refusal = policy_refusal(services, user_id, channel_id, "lookup")
        if refusal:  # refused people get the refusal whatever they typed
            ack(response_type="ephemeral", text=refusal.text)
            return
        try:
            phone = parse(text)
        except InvalidPhoneError as exc:
            # The 10-digit rule, and no API call.
            ack(
                response_type="ephemeral",
                text=f"{exc.message.capitalize()}. Use a 10-digit US number, e.g. `/caller 212-555-8383`.",
            )
            return
        refusal = rate_refusal(services, user_id, channel_id, "lookup", phone.number)
        if refusal:
            ack(response_type="ephemeral", text=refusal.text)
            return
        ack()  # within Slack's 3 s whatever the API does; the card follows via response_url
        answer = lookup_answer(services, phone, user_id=user_id, channel_id=channel_id)
        respond(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
