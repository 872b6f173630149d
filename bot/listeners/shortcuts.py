"""Message shortcut "Look up caller": find the numbers in a message, answer privately."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nextcaller_ops.phone import find_numbers

from .. import blocks
from .common import gate, lookup_answer

if TYPE_CHECKING:
    from slack_bolt import App

    from ..app import Services

MAX_NUMBERS = 5


def register(app: App, services: Services) -> None:
    @app.shortcut(blocks.SHORTCUT_CALLBACK)
    def lookup_message(ack: Callable[..., None], shortcut: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        user_id = (shortcut.get("user") or {}).get("id")
        channel_id = (shortcut.get("channel") or {}).get("id")
        text = (shortcut.get("message") or {}).get("text") or ""
        numbers = find_numbers(text)
        if not numbers:
            respond(response_type="ephemeral", text="I didn't find a US phone number in that message.")
            return
        for phone in numbers[:MAX_NUMBERS]:
            answer = gate(services, user_id, channel_id, "lookup", phone.number) or lookup_answer(
                services, phone, user_id=user_id, channel_id=channel_id
            )
            respond(response_type="ephemeral", replace_original=False, text=answer.text, blocks=answer.blocks)
        if len(numbers) > MAX_NUMBERS:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"{len(numbers) - MAX_NUMBERS} more number(s) in that message were not looked up.",
            )
