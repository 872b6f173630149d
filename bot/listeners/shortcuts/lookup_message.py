"""Message shortcut "Look up caller": find the numbers in a message, answer privately.

Each number was counted on the asker's per-minute limit by the gate (:mod:`bot.gate`); those
over it are answered with the limit's sentence here, in the message's order, and not looked up.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.api.phone import find_numbers

from ... import messages
from ...answers import lookup_answer
from ...gate import SHORTCUT_NUMBERS, refused_numbers
from ...services import services_from

MAX_NUMBERS = SHORTCUT_NUMBERS


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
    refused = refused_numbers(context)
    for phone in numbers[:MAX_NUMBERS]:
        refusal = refused.get(phone.number)
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
