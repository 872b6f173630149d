"""The buttons on a triage reply: Show full card, Claim/Release, Resolve, Flag fraud, Look up.

Each acks first; the policy has already let the person through (:mod:`bot.gate`).
A button that changes the item updates the reply in place; whatever only the
presser should see (the full card, "someone else has it") is private.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from nextcaller_ops import errors
from nextcaller_ops.phone import parse
from nextcaller_ops.stores.base import CLAIM, FLAG, RELEASE, RESOLVE

from ... import messages
from ...answers import lookup_answer
from ...gate import rate_refusal
from ...services import services_from
from ...triage import cards
from ._button import pressed_by

# action_id -> (store action, audit name)
_ACTS = {
    cards.ACTION_CLAIM: (CLAIM, "claim"),
    cards.ACTION_RELEASE: (RELEASE, "release"),
    cards.ACTION_RESOLVE: (RESOLVE, "resolve"),
    cards.ACTION_FLAG: (FLAG, "flag_fraud"),
}


def _item_of(body: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(channel, message ts, phone or None) from a triage button's value; None when it isn't ours."""
    try:
        value = json.loads(body["actions"][0]["value"])
        channel_id, message_ts = str(value["c"]), str(value["t"])
        phone = parse(value["phone"]).number if "phone" in value else None
    except (KeyError, IndexError, TypeError, ValueError, errors.InvalidPhoneError):
        return None
    return channel_id, message_ts, phone


def _private(respond: Respond, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
    respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)


def show_full_card(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """The whole card, private to whoever pressed: rate-limited and audited like /caller."""
    ack()
    item = _item_of(body)
    user_id, channel_id = pressed_by(body)
    if item is None or item[2] is None:
        return
    services = services_from(context)
    refusal = rate_refusal(services, user_id, channel_id, "triage_card", item[2])
    if refusal:
        _private(respond, refusal)
        return
    answer = lookup_answer(services, parse(item[2]), user_id=user_id, channel_id=channel_id, action="triage_card")
    _private(respond, answer.text, answer.blocks)


def change_item(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Claim, Release, Resolve, Flag fraud: stored, audited, and the reply updated in place."""
    ack()
    item_key = _item_of(body)
    user_id, channel_id = pressed_by(body)
    action_id = (body.get("actions") or [{}])[0].get("action_id")
    if item_key is None or not user_id or action_id not in _ACTS:
        return
    services = services_from(context)
    action, audit_name = _ACTS[action_id]
    item, changed = services.triage.act(item_key[0], item_key[1], action, user_id)
    outcome = "done" if changed else "no change" if item else "unknown item"
    services.audit.record(
        user_id=user_id, channel_id=channel_id, action=audit_name, phone=None, outcome=outcome, detail=item_key[1]
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
    """Look up (paused by the channel's budget, or given up): now, counted on the presser's own limit."""
    ack()
    item_key = _item_of(body)
    user_id, channel_id = pressed_by(body)
    if item_key is None or not user_id:
        return
    services = services_from(context)
    refusal = rate_refusal(services, user_id, channel_id, "triage_lookup", item_key[2])
    if refusal:
        _private(respond, refusal)
        return
    if not services.triage.look_up_now(item_key[0], item_key[1], user_id):
        _private(respond, messages.TRIAGE_BUSY)
