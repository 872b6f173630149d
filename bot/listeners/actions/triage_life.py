"""Snooze (1 h, 4 h, 24 h), Drop (with a reason) and Reopen on a triage reply (issue 26).

Like the other triage buttons (:mod:`.triage`): ack first; the policy has let the
person through (:mod:`bot.gate`, as for Claim); the press counts only in the
item's own channel, on the item's own reply (:func:`.triage._own_item`, refused
privately and audited otherwise).  A change re-draws the reply in place and adds
one line to the thread; every press is audited, what it changed or why not.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops.stores.base import DROP_REASONS

from ... import messages
from ...services import services_from
from ...triage import cards, lifecycle
from .triage import UNKNOWN_ITEM, _own_item, _press_of, _private

_AUDIT = {cards.ACTION_SNOOZE: "snooze", cards.ACTION_DROP: "drop", cards.ACTION_REOPEN: "reopen"}


def change_life(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Snooze, Drop or Reopen: stored, audited, the reply re-drawn and one line in the thread."""
    ack()
    press = _press_of(body)
    action_id = (body.get("actions") or [{}])[0].get("action_id")
    if press is None or not press.user_id or action_id not in _AUDIT:
        return
    services = services_from(context)
    audit_name = _AUDIT[action_id]
    if _own_item(services, press, audit_name, respond) is None:
        return
    choice = press.choice or {}
    seconds = lifecycle.snooze_seconds(choice.get("s"))
    reason = choice.get("r")
    detail = press.message_ts
    if (action_id == cards.ACTION_SNOOZE and seconds is None) or (
        action_id == cards.ACTION_DROP and reason not in DROP_REASONS
    ):
        outcome = "refused: unknown choice"
        _private(respond, messages.TRIAGE_BAD_CHOICE)
        item = None
    else:
        triage = services.triage
        try:
            if action_id == cards.ACTION_SNOOZE and seconds is not None:
                item, changed = lifecycle.snooze(triage, press.channel_id, press.message_ts, press.user_id, seconds)
                detail += f" for {choice['s']}"
            elif action_id == cards.ACTION_DROP and reason is not None:
                item, changed = lifecycle.drop(triage, press.channel_id, press.message_ts, press.user_id, reason)
                detail += f" {reason}"
            else:
                item, changed = lifecycle.reopen(triage, press.channel_id, press.message_ts, press.user_id)
        except KeyError:
            item, changed = None, False
        outcome = "done" if changed else "no change" if item else UNKNOWN_ITEM
        if item is None:
            _private(respond, messages.TRIAGE_GONE)
        elif not changed:
            _private(
                respond, messages.TRIAGE_NOT_DONE if action_id == cards.ACTION_REOPEN else messages.TRIAGE_NOT_LIVE
            )
    services.audit.record(
        user_id=press.user_id,
        channel_id=press.pressed_in,
        action=audit_name,
        phone=None,
        outcome=outcome,
        detail=detail,
    )
