"""A message in a channel: in a watched one, numbers get one threaded caller card.

Bolt acknowledges the event before this runs (on its listener pool).  This only
claims the message in the triage store and hands the lookups to the triage pool
(:mod:`bot.triage.pool`), whose threads are its own: a flood of watched messages
on a slow API never holds the listener threads that every ``/caller`` is acked
on.  A retried delivery never reaches here twice (:func:`bot.gate.dedupe_events`);
the same message reaching another process is stopped by the store's claim on
channel + ts.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from ...gate import channel_refusal
from ...services import services_from
from ...triage import read_message


def message_posted(event: dict[str, Any], context: BoltContext) -> None:
    services = services_from(context)
    message = read_message(event, bot_id=context.bot_id, bot_user_id=context.bot_user_id)
    if message is None or not services.triage.watched(message.channel_id):
        return
    if channel_refusal(services, message.channel_id, "triage_lookup"):
        return
    services.triage_pool.offer(message)
