"""The Verify caller form's submission: each claimed field against the record, answered privately.

The comparison is the core's (:func:`nextcaller_ops.api.verify.verify`, as for the CLI
and the notebook).  A malformed ZIP, or nothing typed, is shown on the form.  The
lookup behind it (the cache first) is counted (by the gate, :mod:`bot.gate`) and audited like any other; the audit
row of the verification keeps the verdicts and never what was typed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse
from nextcaller_ops.api.render import format_number
from nextcaller_ops.api.verify import InvalidClaim, verify
from nextcaller_ops.audit import asking

from ... import messages, modal
from ...answers import error_answer
from ...services import services_from

log = logging.getLogger("bot")


def _tell(client: WebClient, user_id: str, channel_id: str | None, text: str) -> None:
    """Ephemeral in the channel the agent was in; a DM when that is not possible."""
    try:
        if channel_id:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
            return
    except Exception:  # the bot may not be in that channel
        log.info("could not post ephemerally in %s; sending a DM", channel_id)
    client.chat_postMessage(channel=user_id, text=text)


def verify_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    user_id: str = (body.get("user") or {}).get("id", "")
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        phone = parse(meta["phone"]).number
        channel_id = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    except (ValueError, KeyError, TypeError, errors.InvalidPhoneError):
        ack(response_action="errors", errors={"v_name": messages.FORM_DAMAGED})
        return
    typed = modal.verify_values(view)
    claims = {"name": typed.get("name"), "zip_code": typed.get("zip"), "email": typed.get("email")}
    claims["street"] = typed.get("street")
    try:
        verify([], **claims)  # a malformed claim is shown on its field, before any lookup
    except InvalidClaim as exc:
        ack(response_action="errors", errors={"v_" + exc.field: str(exc).split(": ", 1)[1]})
        return
    except ValueError:
        ack(response_action="errors", errors={"v_name": messages.VERIFY_NOTHING_GIVEN})
        return
    ack()
    services = services_from(context)
    try:
        with asking(user_id=user_id, channel_id=channel_id, action="verify"):
            result = services.client.lookup(parse(phone))
    except errors.NextCallerError as exc:
        _tell(client, user_id, channel_id, error_answer(exc, "verify").text)
        return
    verification = verify(result.profiles, **claims)
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="verify",
        phone=phone,
        outcome=f"verified: {verification.overall}",
        detail=" ".join(f"{f.field}={f.verdict.replace(' ', '_')}" for f in verification.fields),  # verdicts only
    )
    text = messages.verification(
        format_number(phone), [(f.field, f.verdict) for f in verification.fields], verification.overall
    )
    _tell(client, user_id, channel_id, text)
