"""The buttons on a triage reply: Show full card, Claim/Release, Resolve, Flag fraud, Look up.

Each acks first; the policy has already let the person through (:mod:`bot.gate`).
A button that changes the item updates the reply in place; whatever only the
presser should see (the full card, "someone else has it") is private.

A button's value names its item (channel + message ts, and a number for the
per-number buttons), but the value is only the payload's word; where the button
was pressed is Slack's.  So a press counts only when it was pressed in the item's
own channel, on the item's own reply, and names one of the item's numbers:
anything else is refused privately and audited with the channel where it was
pressed, before the store, the reply or the API is touched (:func:`_own_item`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse
from nextcaller_ops.stores import TriageItem
from nextcaller_ops.stores.base import CLAIM, FLAG, RELEASE, RESOLVE

from ... import messages
from ...answers import lookup_answer
from ...services import Services, services_from
from ...triage import cards

# action_id -> (store action, audit name)
_ACTS = {
    cards.ACTION_CLAIM: (CLAIM, "claim"),
    cards.ACTION_RELEASE: (RELEASE, "release"),
    cards.ACTION_RESOLVE: (RESOLVE, "resolve"),
    cards.ACTION_FLAG: (FLAG, "flag_fraud"),
}

# What a refused press is audited as (the audit row names the channel where it was pressed).
REFUSED_CHANNEL = "refused: not this channel's item"
REFUSED_REPLY = "refused: not this item's reply"
REFUSED_PENDING = "refused: reply not posted yet"
UNKNOWN_ITEM = "unknown item"
REPLY_SAVED_WITHIN = 3.0  # seconds a press on a reply just posted waits for the reply's ts to be stored


@dataclass(frozen=True)
class _Press:
    """A triage button press: the item its value names, and who pressed it where."""

    channel_id: str  # the item's channel, from the value
    message_ts: str  # the item's message, from the value
    phone: str | None  # the per-number buttons' number, from the value
    user_id: str | None
    pressed_in: str | None  # the channel the button was pressed in (Slack's word); None if the payload disagrees
    pressed_on: str | None  # the ts of the message the button sat on; None on an ephemeral message
    choice: dict[str, str] | None = None  # a menu's option: what was chosen (``s`` a snooze, ``r`` a reason)


def _agreed(*said: Any) -> str | None:
    """The one value the payload's fields give; None when none is given or they disagree."""
    given = {s for s in said if isinstance(s, str) and s}
    return given.pop() if len(given) == 1 else None


def _press_of(body: dict[str, Any]) -> _Press | None:
    """The press in ``body``; None when the button's value is not ours."""
    try:
        action = body["actions"][0]
        # a button carries a value; a menu (Snooze, Drop) the value of the option chosen
        value = json.loads(action.get("value") or action["selected_option"]["value"])
        channel_id, message_ts = str(value["c"]), str(value["t"])
        phone = parse(value["phone"]).number if "phone" in value else None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, errors.InvalidPhoneError):
        return None
    container, channel, message = (_part(body, key) for key in ("container", "channel", "message"))
    return _Press(
        channel_id=channel_id,
        message_ts=message_ts,
        phone=phone,
        user_id=_part(body, "user").get("id"),
        pressed_in=_agreed(channel.get("id"), container.get("channel_id")),
        pressed_on=_agreed(message.get("ts"), container.get("message_ts")),
        choice={k: str(value[k]) for k in ("s", "r") if k in value},
    )


def _part(body: dict[str, Any], key: str) -> dict[str, Any]:
    part = body.get(key)
    return part if isinstance(part, dict) else {}


def _private(respond: Respond, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)


def _own_item(services: Services, press: _Press, action: str, respond: Respond) -> TriageItem | None:
    """The item ``press`` may act on; None when it may not (the presser is told why, privately, and it is audited).

    It must have been pressed in the item's channel, on the item's reply, and a
    per-number button must carry one of the item's numbers: a value copied onto
    another message, or into another channel, acts on nothing.
    """
    if press.pressed_in != press.channel_id:
        _refused(services, press, action, respond, REFUSED_CHANNEL, messages.TRIAGE_NOT_THIS_CHANNEL)
        return None
    item = services.triage.store.get(press.channel_id, press.message_ts)
    if item is None:
        _refused(services, press, action, respond, UNKNOWN_ITEM, messages.TRIAGE_GONE)
        return None
    if press.pressed_on is not None and item.reply_ts is None:
        item = _once_its_reply_is_saved(services, item)
        if item is None or item.reply_ts is None:
            _refused(services, press, action, respond, REFUSED_PENDING, messages.TRIAGE_REPLY_PENDING)
            return None
    on_its_reply = press.pressed_on is not None and press.pressed_on == item.reply_ts
    if not on_its_reply or (press.phone is not None and press.phone not in item.numbers):
        _refused(services, press, action, respond, REFUSED_REPLY, messages.TRIAGE_NOT_THIS_REPLY)
        return None
    return item


def _once_its_reply_is_saved(services: Services, item: TriageItem) -> TriageItem | None:
    """The item once its reply's ts is stored: a button pressed the moment the reply appeared may
    arrive before the bot has saved the ts Slack gave it (a few milliseconds); wait a little, not forever."""
    deadline = time.monotonic() + REPLY_SAVED_WITHIN
    latest: TriageItem | None = item
    while latest is not None and latest.reply_ts is None and time.monotonic() < deadline:
        time.sleep(0.05)
        latest = services.triage.store.get(item.channel_id, item.message_ts)
    return latest


def _refused(services: Services, press: _Press, action: str, respond: Respond, outcome: str, text: str) -> None:
    services.audit.record(
        user_id=press.user_id,
        channel_id=press.pressed_in,
        action=action,
        phone=press.phone,
        outcome=outcome,
        detail=f"{press.channel_id} {press.message_ts}",  # the item the value named
    )
    _private(respond, text)


def show_full_card(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """The whole card, private to whoever pressed: rate-limited (by the gate) and audited like /caller."""
    ack()
    press = _press_of(body)
    if press is None or press.phone is None:
        return
    services = services_from(context)
    if _own_item(services, press, "triage_card", respond) is None:
        return
    answer = lookup_answer(
        services, parse(press.phone), user_id=press.user_id, channel_id=press.pressed_in, action="triage_card"
    )
    _private(respond, answer.text, answer.blocks)


def change_item(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Claim, Release, Resolve, Flag fraud: stored, audited, and the reply updated in place."""
    ack()
    press = _press_of(body)
    action_id = (body.get("actions") or [{}])[0].get("action_id")
    if press is None or not press.user_id or action_id not in _ACTS:
        return
    services = services_from(context)
    action, audit_name = _ACTS[action_id]
    if _own_item(services, press, audit_name, respond) is None:
        return
    item, changed = services.triage.act(press.channel_id, press.message_ts, action, press.user_id)
    outcome = "done" if changed else "no change" if item else UNKNOWN_ITEM
    services.audit.record(
        user_id=press.user_id,
        channel_id=press.pressed_in,
        action=audit_name,
        phone=None,
        outcome=outcome,
        detail=press.message_ts,
    )
    if item is None:
        _private(respond, messages.TRIAGE_GONE)
    elif not changed and action == CLAIM and item.resolved_at is None:
        _private(respond, messages.already_claimed(item.claimed_by, item.claimed_at))
    elif not changed and action == RELEASE:
        _private(respond, messages.not_your_claim(item.claimed_by))
    elif not changed and item.resolved_at is not None and action in (CLAIM, RESOLVE):
        _private(respond, messages.already_done("resolved", item.resolved_by, item.resolved_at))
    elif not changed and action == FLAG:
        _private(respond, messages.already_done("flagged", item.flagged_by, item.flagged_at))


def look_up_now(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Look up (paused by the channel's budget, or given up): now, counted on the presser's own limit (by the gate)."""
    ack()
    press = _press_of(body)
    if press is None or not press.user_id:
        return
    services = services_from(context)
    if _own_item(services, press, "triage_lookup", respond) is None:
        return
    if not services.triage.look_up_now(press.channel_id, press.message_ts, press.user_id):
        _private(respond, messages.TRIAGE_BUSY)
