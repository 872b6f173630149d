"""Message shortcut "Look up caller": find the numbers in a message, answer privately."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.api.phone import find_numbers

from ... import messages
from ...answers import lookup_answer
from ...gate import rate_refusal
from ...services import services_from

MAX_NUMBERS = 5


def lookup_message(ack: Ack, shortcut: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_from(context)
    user_id = (shortcut.get("user") or {}).get("id")
    channel_id = (shortcut.get("channel") or {}).get("id")
    text = (shortcut.get("message") or {}).get("text") or ""
    numbers = find_numbers(text)
    if not numbers:
        respond(response_type="ephemeral", text=messages.NO_NUMBER_IN_MESSAGE)
        return
    for phone in numbers[:MAX_NUMBERS]:
        refusal = rate_refusal(services, user_id, channel_id, "lookup", phone.number)
        if refusal:
            respond(response_type="ephemeral", replace_original=False, text=refusal)
            continue
        answer = lookup_answer(services, phone, user_id=user_id, channel_id=channel_id)
        respond(response_type="ephemeral", replace_original=False, text=answer.text, blocks=answer.blocks)
    if len(numbers) > MAX_NUMBERS:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=messages.numbers_not_looked_up(len(numbers) - MAX_NUMBERS),
        )
