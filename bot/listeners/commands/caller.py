"""``/caller PHONE``: usage and refusals in the ack itself; otherwise ack at once, then the private card.

``/caller watch [on|off]`` and ``/caller triage`` are a triage channel's words
(:mod:`.triage`).  Whoever the policy refuses never gets here (:mod:`bot.gate`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.errors import InvalidPhoneError
from nextcaller_ops.phone import parse

from ... import blocks, messages
from ...answers import lookup_answer
from ...gate import rate_refusal
from ...services import services_from
from .triage import triage_list, watch

HELP_WORDS = ("help", "-h", "--help", "?")


def caller_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    services = services_from(context)
    text = (command.get("text") or "").strip()
    user_id, channel_id = command.get("user_id"), command.get("channel_id")
    if not text or text.lower() in HELP_WORDS:
        ack(response_type="ephemeral", text=messages.USAGE, blocks=blocks.usage_blocks())
        return
    word, _, rest = text.partition(" ")
    if word.lower() == "watch":
        ack(response_type="ephemeral", text=watch(services, user_id, channel_id, rest.strip().lower()))
        return
    if word.lower() == "triage" and not rest.strip():
        answer = triage_list(services, user_id, channel_id)
        ack(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
        return
    try:
        phone = parse(text)
    except InvalidPhoneError as exc:  # the 10-digit rule, and no API call
        ack(response_type="ephemeral", text=messages.bad_number(exc))
        return
    refusal = rate_refusal(services, user_id, channel_id, "lookup", phone.number)
    if refusal:
        ack(response_type="ephemeral", text=refusal)
        return
    ack()  # within Slack's 3 s whatever the API does; the card follows via response_url
    answer = lookup_answer(services, phone, user_id=user_id, channel_id=channel_id)
    respond(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
