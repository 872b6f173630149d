"""The Forget button of ``/caller forget`` (a signed block action, after Slack's confirmation dialog).

The admin check is made again here: the press is its own request, whoever the question
was shown to.  The flow is the core's (:func:`nextcaller_ops.forgetting.forget`) on the
bot's own stores, caches and Redis; it audits itself by keyed hash.  The triage replies and
the agents of cancelled corrections are seen to by the bot's workers (``bot.triage.worker``,
``bot.outbox``), so Slack being down loses nothing.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.errors import UsageError
from nextcaller_ops.forgetting import forget, target_for

from ... import messages
from ...services import services_from
from ._button import pressed_by

__all__ = ["forget_confirmed", "forget_cancelled"]


def forget_confirmed(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_from(context)
    user_id, channel_id = pressed_by(body)
    if not services.triage.is_admin(user_id):
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action="forget", phone=None, outcome="refused: not an admin"
        )
        respond(replace_original=False, response_type="ephemeral", text=messages.FORGET_NOT_ADMIN)
        return
    try:
        value = json.loads(body["actions"][0]["value"])
        target = target_for(str(value["forget"]))
    except (KeyError, IndexError, TypeError, ValueError):  # not our button's value: a forged payload
        respond(replace_original=True, response_type="ephemeral", text=messages.FORGET_USAGE)
        return
    except UsageError as exc:
        respond(replace_original=True, response_type="ephemeral", text=messages.esc(exc.message))
        return
    report = forget(
        target.value,
        stores=services.stores,
        settings=services.client.settings,
        user_id=user_id,
        channel_id=channel_id,
    )
    services.outbox.wake()  # cancelled corrections: their agents are told now, not at the next poll
    respond(
        replace_original=True,
        response_type="ephemeral",
        text=messages.forget_done(target.shown, report.total, report.lines()),
    )


def forget_cancelled(ack: Ack, respond: Respond) -> None:
    ack()
    respond(replace_original=True, response_type="ephemeral", text=messages.FORGET_CANCELLED)
