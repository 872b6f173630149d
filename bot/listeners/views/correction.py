"""The correction modal's submission: validate, post only what changed, never lose it.

Whoever the policy refuses (say, removed from the allowlist while the form was
open) never gets here: :mod:`bot.gate` answers with an error on the form.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from nextcaller_ops.api.correction_fields import validate_correction_value

from ... import messages, modal
from ...outbox import DELIVERED, PENDING
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


def _problem(name: str, value: str) -> str | None:
    """What is wrong with a changed field, as Slack shows it under the field; None when it is fine."""
    problem = validate_correction_value(name, value)  # the core's rules, lone surrogates included
    return problem[0].upper() + problem[1:] if problem else None


def correction_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    user_id: str = (body.get("user") or {}).get("id", "")  # Slack always says who submitted
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        profile_id = meta["id"]
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={modal.field_block_id("first_name"): messages.FORM_DAMAGED})
        return
    values = modal.submitted_values(view)
    changed = modal.changed_values(meta, values)
    if changed is None:  # without the fingerprints every field would look changed: send nothing
        ack(response_action="errors", errors={modal.field_block_id("first_name"): messages.FORM_DAMAGED})
        return
    problems = {
        modal.field_block_id(name): problem for name, value in changed.items() if (problem := _problem(name, value))
    }
    if problems:  # the errors must travel in the ack: Slack shows them on the fields
        ack(response_action="errors", errors=problems)
        return
    services = services_from(context)
    channel_id = meta.get("channel")
    if not changed:
        ack()
        _tell(client, user_id, channel_id, messages.NOTHING_CHANGED)
        return
    # Durable before the ack: from here on the correction cannot be lost.
    row, created = services.outbox.submit(
        profile_id, changed, user_id=user_id, channel_id=channel_id, dedupe_key=view.get("id")
    )
    ack()
    if not created:
        return  # the same submission delivered twice by Slack: already handled
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="correction",
        phone=meta.get("phone"),
        outcome="submitted",
        detail=", ".join(sorted(changed)),
    )
    done = services.outbox.attempt(row.id)
    if done is None or done[1] == PENDING:
        services.outbox.wake()
        text = messages.correction_queued(meta.get("phone", ""), changed)
    elif done[1] == DELIVERED:
        text = messages.correction_sent(profile_id, changed)
    else:
        text = messages.correction_refused(done[0].last_error)
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="correction",
        phone=meta.get("phone"),
        outcome=done[1] if done else PENDING,
    )
    _tell(client, user_id, channel_id, text)
