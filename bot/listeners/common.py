"""What the listeners share: a policy-checked, rate-limited, audited lookup."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nextcaller_ops import errors
from nextcaller_ops.models import LookupResult
from nextcaller_ops.phone import PhoneInput
from nextcaller_ops.redact import mask_phone

from .. import blocks

if TYPE_CHECKING:
    from ..app import Services

log = logging.getLogger("bot")


@dataclass(frozen=True)
class Answer:
    """A message for the agent: blocks plus the fallback text."""

    text: str
    blocks: list[dict[str, Any]]
    result: LookupResult | None = None


def say_text(text: str) -> Answer:
    return Answer(text=text, blocks=blocks.text_blocks(text))


def policy_refusal(
    services: Services, user_id: str | None, channel_id: str | None, action: str, phone: str | None = None
) -> Answer | None:
    """A polite refusal (audited) when this user may not look up here; None when allowed."""
    refusal = services.policy.refusal(user_id, channel_id)
    if not refusal:
        return None
    services.audit.record(user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome="refused: policy")
    return say_text(refusal)


def rate_refusal(
    services: Services, user_id: str | None, channel_id: str | None, action: str, phone: str | None = None
) -> Answer | None:
    """A refusal (audited) when the user is over the per-minute limit; else counts this lookup."""
    wait = services.limiter.wait_time(user_id or "?")
    if wait:
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome="refused: rate limit"
        )
        return say_text(f"You've reached {services.limiter.limit} lookups a minute. Try again in {int(wait) + 1} s.")
    return None


def gate(
    services: Services, user_id: str | None, channel_id: str | None, action: str, phone: str | None = None
) -> Answer | None:
    """Policy, then the rate limit: the first refusal, or None when the lookup may go ahead."""
    return policy_refusal(services, user_id, channel_id, action, phone) or rate_refusal(
        services, user_id, channel_id, action, phone
    )


def error_answer(exc: errors.NextCallerError, where: str) -> Answer:
    """A short message for the agent; the admin gets the code in the log."""
    code = f" [{exc.code}]" if exc.code else ""
    log.warning("%s failed: %s%s: %s", where, type(exc).__name__, code, exc.message)
    if isinstance(exc, (errors.AuthError, errors.BillingError, errors.ExpiredTrialError, errors.CredentialsError)):
        return say_text(
            "The caller lookup service isn't configured correctly right now "
            "(an admin has been notified in the bot's log). Please try again later."
        )
    if isinstance(exc, errors.RateLimitError):
        return say_text("The lookup service is busy. Please try again in a minute.")
    if isinstance(exc, (errors.TransportError, errors.ServerError, errors.BadResponseError)):
        return say_text("The lookup service isn't answering right now. Please try again in a minute.")
    return say_text(f"That lookup didn't work: {blocks.esc(exc.message)}")


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
            text=f"No record for {phone.display}.",
            blocks=blocks.text_blocks(f"No record for {phone.display}."),
            result=result,
        )
    return Answer(
        text=blocks.card_text(result.profiles, phone.number),
        blocks=blocks.profile_cards(result.profiles, phone.number),
        result=result,
    )
