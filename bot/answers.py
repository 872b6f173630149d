"""What an agent is answered: an audited lookup as a message.

Used by every listener that looks a number up (``/caller``, Refresh, the message
shortcut, the triage buttons), after :mod:`bot.gate` let the request through.
Each call is made :func:`~nextcaller_ops.audit.asking` as the agent, in their
channel: the client audits it (the bot's audit log is its hook, wired in
:func:`bot.services.build_services`); the words are :mod:`bot.messages`'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.api.models import LookupResult
from nextcaller_ops.api.phone import PhoneInput
from nextcaller_ops.audit import asking
from nextcaller_ops.redact import mask_phone

from . import blocks, messages
from .messages import esc
from .services import Services

__all__ = ["Answer", "say_text", "error_answer", "lookup_answer", "email_answer", "fraud_answer"]

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
    """Look ``phone`` up and build the private card message; the client audits it as ``action``."""
    try:
        with asking(user_id=user_id, channel_id=channel_id, action=action):
            result = services.client.lookup(phone, refresh=refresh)
    except errors.NextCallerError as exc:
        return error_answer(exc, f"{action} {mask_phone(phone.number)}")
    outcome = f"found {len(result.profiles)}" if result.found else "no record"
    log.info("%s %s by %s in %s: %s", action, mask_phone(phone.number), user_id, channel_id, outcome)
    services.webhooks.emit("lookup.completed", looked_up(action, user_id, channel_id, phone.number, result))
    if not result.found:
        return Answer(
            text=messages.no_record(phone.display),
            blocks=_with_memory(services, phone.number, blocks.text_blocks(messages.no_record(phone.display))),
            result=result,
        )
    return Answer(
        text=blocks.card_text(result.profiles, phone.number),
        blocks=_with_memory(
            services, phone.number, blocks.profile_cards(result.profiles, phone.number, fraud_check=_v21(services))
        ),
        result=result,
    )


def _with_memory(services: Services, number: str, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card with the number's fraud flags in triage channels on top (issue 26); as it was when there
    are none, or when the card already fills Slack's 50 blocks."""
    from .triage.memory import memory_block, recall

    now = services.triage.now()
    try:
        note = memory_block(recall(services.triage.store, number, now), now)
    except Exception:  # the triage store briefly unreachable: the card without it, not no card
        log.warning("the triage store could not be read for a card's flags", exc_info=True)
        return shown
    if note is None or len(shown) >= blocks.MAX_BLOCKS:
        return shown
    return [note, *shown]


def looked_up(
    action: str, user_id: str | None, channel_id: str | None, number: str, result: LookupResult
) -> dict[str, Any]:
    """``lookup.completed``'s data (the number is masked on the way out unless the webhooks carry PII)."""
    threats = [p.fraud_threat for p in result.profiles if p.fraud_threat]
    return {
        "surface": "workflow" if action.startswith("workflow") else "slack",
        "action": action,
        "by": user_id,
        "channel_id": channel_id,
        "phone": number,
        "found": result.found,
        "fraud_threat": threats[0] if threats else None,
    }


def _v21(services: Services) -> bool:
    return getattr(services.client, "api_version", "v2") == "v2.1"


def email_answer(services: Services, email: str, *, user_id: str | None, channel_id: str | None) -> Answer:
    """``/caller jerry@example.com`` (API v2.1): the address's records as cards; the client audits it.

    The cards' buttons act on the first record's number (Refresh looks that number up).
    """
    try:
        # the row's detail is the address as asked (the client's would say email=…; cached)
        with asking(user_id=user_id, channel_id=channel_id, action="lookup_email", detail=email):
            result = services.client.lookup_email(email)
    except errors.NextCallerError as exc:
        return error_answer(exc, "lookup by email")
    outcome = f"found {len(result.profiles)}" if result.found else "no record"
    log.info("lookup by email by %s in %s: %s", user_id, channel_id, outcome)
    if not result.found:
        return say_text(messages.no_record(email))
    phones = [n for p in result.profiles for n in p.phone_numbers]
    phone = phones[0] if phones else ""
    return Answer(
        text=esc(f"Caller {email}: " + ", ".join(p.display_name for p in result.profiles)),
        blocks=blocks.profile_cards(result.profiles, phone, fraud_check=bool(phone)),
        result=result,
    )


def fraud_answer(services: Services, phone: PhoneInput, *, user_id: str | None, channel_id: str | None) -> Answer:
    """The Fraud check button (API v2.1): the number's fraud level; the client audits it."""
    try:
        with asking(user_id=user_id, channel_id=channel_id, action="fraud"):
            level = services.client.fraud_level(phone)
    except errors.NextCallerError as exc:
        return error_answer(exc, f"fraud check {mask_phone(phone.number)}")
    return say_text(messages.fraud_level(phone.display, level.fraud_risk, level.spoofed))
