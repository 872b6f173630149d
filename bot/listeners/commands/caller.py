"""``/caller PHONE``: usage and refusals in the ack itself; otherwise ack at once, then the private card.

``/caller jerry@example.com`` looks up by email when the bot speaks API v2.1.

``/caller watch [on|off]`` and ``/caller triage`` are a triage channel's words
(:mod:`.triage`).  Whoever the policy refuses, or is over the per-minute lookup limit,
never gets here (:mod:`bot.gate` reads a valid number or address as a lookup).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.api.phone import parse
from nextcaller_ops.api.queries import check_email
from nextcaller_ops.api.text import control_problem
from nextcaller_ops.errors import InvalidPhoneError, UsageError

from ... import blocks, messages
from ...answers import email_answer, lookup_answer
from ...services import Services, services_from
from .digest import digest_command
from .forget import forget_command
from .triage import triage_list, watch

HELP_WORDS = ("help", "-h", "--help", "?")


def caller_command(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    services = services_from(context)
    text = (command.get("text") or "").strip()
    user_id, channel_id = command.get("user_id"), command.get("channel_id")
    if not text or text.lower() in HELP_WORDS:
        ack(response_type="ephemeral", text=messages.USAGE, blocks=blocks.usage_blocks())
        return
    problem = control_problem(text)  # ESC or a bidi override: refused as the CLI and the notebook refuse it
    if problem:
        ack(response_type="ephemeral", text=messages.bad_text(problem))
        return
    word, _, rest = text.partition(" ")
    if word.lower() == "watch":
        ack(response_type="ephemeral", text=watch(services, user_id, channel_id, rest.strip().lower()))
        return
    if word.lower() == "forget":  # admins only; asks first (.forget)
        forget_command(ack, services, user_id, channel_id, rest.strip())
        return
    if word.lower() == "digest" and not rest.strip():  # admins: the triage digest now (.digest)
        digest_command(ack, respond, services, user_id, channel_id)
        return
    if word.lower() == "triage" and not rest.strip():
        answer = triage_list(services, user_id, channel_id)
        ack(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
        return
    if "@" in text and " " not in text:  # an email address: API v2.1
        _by_email(ack, respond, services, text, user_id, channel_id)
        return
    try:
        phone = parse(text)
    except InvalidPhoneError as exc:  # the 10-digit rule, and no API call
        ack(response_type="ephemeral", text=messages.bad_number(exc))
        return
    ack()  # within Slack's 3 s whatever the API does; the card follows via response_url
    answer = lookup_answer(services, phone, user_id=user_id, channel_id=channel_id)
    respond(response_type="ephemeral", text=answer.text, blocks=answer.blocks)


def _by_email(
    ack: Ack, respond: Respond, services: Services, text: str, user_id: str | None, channel_id: str | None
) -> None:
    """``/caller jerry@example.com``: on API v2.1 the address's cards; on v2 one sentence, and no API call."""
    if getattr(services.client, "api_version", "v2") != "v2.1":
        ack(response_type="ephemeral", text=messages.needs_v21("a lookup by email"))
        return
    try:
        email = check_email(text)
    except UsageError as exc:
        ack(response_type="ephemeral", text=messages.bad_email(exc))
        return
    ack()  # the cards follow via response_url
    answer = email_answer(services, email, user_id=user_id, channel_id=channel_id)
    respond(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
