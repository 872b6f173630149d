"""``/caller forget NUMBER|EMAIL``: an admin removes one person's data, after confirming.

The command only asks (a private message with a Forget button carrying Slack's own
confirmation dialog, and Cancel); the signed button press does it
(:mod:`bot.listeners.actions.forget`).  Anyone not in ``NEXTCALLER_OPS_ADMINS`` is refused
and the refusal audited (without the number).
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack

from nextcaller_ops.errors import UsageError
from nextcaller_ops.forgetting import target_for

from ... import messages
from ...services import Services

__all__ = ["forget_command", "ACTION_FORGET", "ACTION_FORGET_CANCEL", "confirm_blocks"]

ACTION_FORGET, ACTION_FORGET_CANCEL = "nc_forget_confirm", "nc_forget_cancel"


def confirm_blocks(shown: str, value: str) -> list[dict[str, Any]]:
    """The question and its two buttons; Forget opens Slack's confirmation dialog first."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": messages.forget_confirm(shown)}},
        {
            "type": "actions",
            "block_id": "nc_forget",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACTION_FORGET,
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Forget"},
                    "value": value,
                    "confirm": {
                        "title": {"type": "plain_text", "text": "Forget this person?"},
                        "text": {
                            "type": "plain_text",
                            "text": f"Remove {shown} from every store. This cannot be undone.",
                        },
                        "confirm": {"type": "plain_text", "text": "Forget"},
                        "deny": {"type": "plain_text", "text": "Keep"},
                        "style": "danger",
                    },
                },
                {"type": "button", "action_id": ACTION_FORGET_CANCEL, "text": {"type": "plain_text", "text": "Cancel"}},
            ],
        },
    ]


def forget_command(ack: Ack, services: Services, user_id: str | None, channel_id: str | None, text: str) -> None:
    if not services.triage.is_admin(user_id):
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action="forget", phone=None, outcome="refused: not an admin"
        )
        ack(response_type="ephemeral", text=messages.FORGET_NOT_ADMIN)
        return
    if not text:
        ack(response_type="ephemeral", text=messages.FORGET_USAGE)
        return
    try:
        target = target_for(text)
    except UsageError as exc:
        ack(response_type="ephemeral", text=f"{messages.esc(exc.message)}. {messages.FORGET_USAGE}")
        return
    # Not under "phone": the gate would read a number there and name it in a refusal's audit row.
    value = json.dumps({"forget": target.value})
    ack(
        response_type="ephemeral",
        text=messages.forget_confirm(target.shown),
        blocks=confirm_blocks(target.shown, value),
    )
