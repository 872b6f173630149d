"""*Open triage item*: a message becomes a triage item, as if it had been posted in a watched channel.

Inputs ``channel_id``, ``message_ts``, ``phone``.  The item is claimed in the
triage store (once: a second run on the same message opens nothing new, and
says so in ``opened``), and its lookup and threaded reply are the triage pool's,
as for a watched message (the channel's budget applies).  Only the channel
allow-list is asked, as for a watched channel's messages; the step's person,
when given, is the item's poster.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Complete, Fail

from ... import messages
from ...gate import channel_refusal
from ...services import services_from
from ...triage.intake import Message
from ._step import log_run, phone_of, plain, step_of

__all__ = ["OPEN_TRIAGE", "open_triage"]

OPEN_TRIAGE = "nc_open_triage"
ACTION = "workflow_triage"
NO_MESSAGE = "The step needs the message: map 'channel_id' and 'message_ts' to the message to triage."


def open_triage(
    inputs: dict[str, Any], event: dict[str, Any], complete: Complete, fail: Fail, context: BoltContext
) -> None:
    services = services_from(context)
    step = step_of(inputs, event)
    message_ts = step.text("message_ts")
    if not step.channel_id or not message_ts:
        log_run(ACTION, step, "no message")
        fail(NO_MESSAGE)
        return
    phone, problem = phone_of(step)
    if phone is None:
        log_run(ACTION, step, "bad number")
        fail(problem or "")
        return
    refused = channel_refusal(services, step.channel_id, ACTION)
    if refused is not None:
        log_run(ACTION, step, "refused")
        fail(plain(messages.refusal(refused)))
        return
    message = Message(
        channel_id=step.channel_id,
        ts=message_ts,
        thread_ts=message_ts,
        poster=step.user_id,
        numbers=[phone],
        more=0,
    )
    opened = services.triage_pool.offer(message)
    log_run(ACTION, step, "opened" if opened else "already open")
    complete(outputs={"opened": bool(opened)})
