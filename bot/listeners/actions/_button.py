"""What a card button carries: our own JSON value, and who pressed it where.

The value is the payload's word, not Slack's: a button that looks its number up
again (Share, Suggest correction) costs nothing when the card was just shown (the
cache has it), and otherwise is a lookup like any other, counted on the presser's
own per-minute limit by the gate (:data:`bot.gate.LOOKUP_BUTTONS`).
"""

from __future__ import annotations

import json
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse


def button_value(body: dict[str, Any]) -> dict[str, Any]:
    """``{"id": ..., "phone": ...}`` from the pressed button; {} when it is not ours or not valid."""
    try:
        value = json.loads(body["actions"][0]["value"])
        parse(value["phone"])  # buttons carry our own JSON, but a forged payload must not reach the API
        return value
    except (KeyError, IndexError, TypeError, ValueError, errors.InvalidPhoneError):
        return {}


def pressed_by(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(user id, channel id) of the button press."""
    return (body.get("user") or {}).get("id"), (body.get("channel") or {}).get("id")
