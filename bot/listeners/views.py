"""The correction modal's submission: validate, post only what changed, never lose it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nextcaller_ops.models import validate_correction_value
from nextcaller_ops.redact import mask_phone

from .. import blocks
from ..outbox import DELIVERED, PENDING

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from ..app import Services

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


def register(app: App, services: Services) -> None:
    @app.view(blocks.CORRECTION_CALLBACK)
    def correction_submitted(
        ack: Callable[..., None], body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user_id = (body.get("user") or {}).get("id")
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            profile_id = meta["id"]
        except (ValueError, KeyError, TypeError):
            ack(
                response_action="errors",
                errors={
                    blocks.field_block_id(
                        "first_name"
                    ): "This form is damaged; close it and press Suggest correction again."
                },
            )
            return
        values = blocks.submitted_values(view)
        problems = {
            blocks.field_block_id(name): problem
            for name, value in values.items()
            if (problem := validate_correction_value(name, value))
        }
        if problems:
            ack(response_action="errors", errors={k: v[0].upper() + v[1:] for k, v in problems.items()})
            return
        before = meta.get("before") or {}
        changed = {name: value for name, value in values.items() if value != before.get(name, "")}
        if not changed:
            ack()
            _tell(client, user_id, meta.get("channel"), "Nothing was changed, so no correction was sent.")
            return
        # Durable before anything else: from here on the correction cannot be lost.
        row, created = services.outbox.submit(
            profile_id, changed, user_id=user_id, channel_id=meta.get("channel"), dedupe_key=view.get("id")
        )
        ack()
        if not created:
            return  # the same submission delivered twice by Slack: already handled
        services.audit.record(
            user_id=user_id,
            channel_id=meta.get("channel"),
            action="correction",
            phone=meta.get("phone"),
            outcome="submitted",
            detail=", ".join(sorted(changed)),
        )
        done = services.outbox.attempt(row.id)
        fields = ", ".join(f"{k} → {v!r}" if v else f"{k} cleared" for k, v in sorted(changed.items()))
        if done is None or done[1] == PENDING:
            services.outbox.wake()
            text = (
                f"📮 The lookup service isn't answering, so your correction to {mask_phone(meta.get('phone', ''))} "
                f"is saved and will be delivered automatically; you'll get a message when it is. ({fields})"
            )
        elif done[1] == DELIVERED:
            text = f"✅ Correction sent for record `{profile_id}`: {fields}"
        else:
            text = f"⚠️ The API refused this correction: {done[0].last_error}"
        services.audit.record(
            user_id=user_id,
            channel_id=meta.get("channel"),
            action="correction",
            phone=meta.get("phone"),
            outcome=done[1] if done else PENDING,
        )
        _tell(client, user_id, meta.get("channel"), text)
