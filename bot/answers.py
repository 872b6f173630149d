"""What an agent is answered: an audited lookup as a message.

Used by every listener that looks a number up (``/caller``, Refresh, the message
shortcut, the triage buttons), after :mod:`bot.gate` let the request through;
each outcome is audited and worded by :mod:`bot.messages`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.models import LookupResult
from nextcaller_ops.phone import PhoneInput
from nextcaller_ops.redact import mask_phone

from . import blocks, messages
from .services import Services

__all__ = ["Answer", "say_text", "error_answer", "lookup_answer"]

log = logging.getLogger("bot")


@dataclass(frozen=True)
class Answer:
    """A message for the agent: blocks plus the fallback text."""

    text: str
    blocks: list[dict[str, Any]]
    result: LookupResult | None = None


def say_text(text: str) -> Answer:
    return Answer(text=text, blocks=blocks.text_blocks(text))


def error_answer(exc: errors.NextCallerError, where: str) -> Answer:
    """A short message for the agent; the admin gets the code in the log."""
    code = f" [{exc.code}]" if exc.code else ""
    log.warning("%s failed: %s%s: %s", where, type(exc).__name__, code, exc.message)
    return say_text(messages.error_text(exc))


def lookup_answer(
    services: Services,
    phone: PhoneInput,
    *,
    user_id: str | None,
    channel_id: str | None,
    action: str = "lookup",
    refresh: bool = False,
) -> Answer:
    """Look ``phone`` up and build the private card message; every outcome is audited."""
    try:
        result = services.client.lookup(phone, refresh=refresh)
    except errors.NextCallerError as exc:
        services.audit.record(
            user_id=user_id,
            channel_id=channel_id,
            action=action,
            phone=phone.number,
            outcome="error",
            detail=f"{type(exc).__name__} {exc.code or ''}".strip(),
        )
        return error_answer(exc, f"{action} {mask_phone(phone.number)}")
    outcome = f"found {len(result.profiles)}" if result.found else "no record"
    services.audit.record(user_id=user_id, channel_id=channel_id, action=action, phone=phone.number, outcome=outcome)
    log.info("%s %s by %s in %s: %s", action, mask_phone(phone.number), user_id, channel_id, outcome)
    if not result.found:
        return Answer(
            text=messages.no_record(phone.display),
            blocks=blocks.text_blocks(messages.no_record(phone.display)),
            result=result,
        )
    return Answer(
        text=blocks.card_text(result.profiles, phone.number),
        blocks=blocks.profile_cards(result.profiles, phone.number),
        result=result,
    )
