"""Block Kit for a triage reply: a compact card per number, who did what, and the buttons.

Pure functions, no Slack calls.  Record text is escaped; email and street are
masked unless the channel is cleared for them.  The cards are rendered once per
lookup and stored with the item, so a button press re-draws the reply from the
store (status and buttons change, the cards stay as they were looked up).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nextcaller_ops.api.models import Profile
from nextcaller_ops.api.render import format_number, threat_label
from nextcaller_ops.stores.base import DROP_REASONS

from .. import messages
from ..messages import esc
from .outcomes import FAILED, FOUND, GAVE_UP, PAUSED, NumberOutcome

__all__ = [
    "ACTION_FULL_CARD",
    "ACTION_CLAIM",
    "ACTION_RELEASE",
    "ACTION_RESOLVE",
    "ACTION_FLAG",
    "ACTION_LOOKUP",
    "ACTION_SNOOZE",
    "ACTION_DROP",
    "ACTION_REOPEN",
    "ACTION_VERIFY",
    "SNOOZE_CHOICES",
    "TRIAGE_ACTIONS",
    "number_blocks",
    "reply_blocks",
    "reply_text",
    "item_value",
    "more_note",
    "MORE_ID",
]

ACTION_FULL_CARD = "nc_triage_card"
ACTION_CLAIM = "nc_triage_claim"
ACTION_RELEASE = "nc_triage_release"
ACTION_RESOLVE = "nc_triage_resolve"
ACTION_FLAG = "nc_triage_flag"
ACTION_LOOKUP = "nc_triage_lookup"
# Triage II (issue 26): an item's life after the lookup
ACTION_SNOOZE = "nc_triage_snooze"  # an overflow menu: 1 h, 4 h, 24 h
ACTION_DROP = "nc_triage_drop"  # a static select: the reason
ACTION_REOPEN = "nc_triage_reopen"
ACTION_VERIFY = "nc_triage_verify"  # per number: a form for what the caller claims
TRIAGE_ACTIONS = (
    ACTION_FULL_CARD,
    ACTION_CLAIM,
    ACTION_RELEASE,
    ACTION_RESOLVE,
    ACTION_FLAG,
    ACTION_LOOKUP,
    ACTION_SNOOZE,
    ACTION_DROP,
    ACTION_REOPEN,
    ACTION_VERIFY,
)
SNOOZE_CHOICES = (("1h", 3600.0), ("4h", 4 * 3600.0), ("24h", 24 * 3600.0))

MAX_RECORDS = 3  # per number in the compact card; the full card has them all


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def item_value(channel_id: str, message_ts: str, phone: str | None = None, **choice: str) -> str:
    """What a triage button carries: the item (channel + message ts), and a number for the per-number ones
    (a menu's option adds what was chosen: ``s`` a snooze's length, ``r`` a drop's reason)."""
    value: dict[str, str] = {"c": channel_id, "t": message_ts}
    if phone:
        value["phone"] = phone
    value.update(choice)
    return json.dumps(value, separators=(",", ":"))


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def _snooze_menu(channel_id: str, message_ts: str) -> dict[str, Any]:
    return {
        "type": "overflow",
        "action_id": ACTION_SNOOZE,
        "options": [
            _option(f"💤 Snooze {label}", item_value(channel_id, message_ts, s=label)) for label, _ in SNOOZE_CHOICES
        ],
    }


def _drop_menu(channel_id: str, message_ts: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": ACTION_DROP,
        "placeholder": {"type": "plain_text", "text": "Drop…", "emoji": True},
        "options": [_option(reason, item_value(channel_id, message_ts, r=reason)) for reason in DROP_REASONS],
    }


def _record_line(profile: Profile, *, pii: bool) -> str:
    address = profile.addresses[0] if profile.addresses else None
    place = ", ".join(p for p in ((address.city, address.state) if address else ()) if p)
    parts = [f"*{esc(profile.display_name)}*", esc(place), esc(profile.carrier or "")]
    if profile.fraud_threat:
        parts.append(f"{esc(threat_label(profile))} fraud threat")  # the API's word: escaped like the rest
    line = " · ".join(p for p in parts if p)
    extra = []
    if profile.email:
        extra.append("✉️ " + esc(profile.email if pii else _masked_email(profile.email)))
    if address and address.line1:
        extra.append("🏠 " + (esc(address.one_line) if pii else "street hidden"))
    return line + ("\n" + " · ".join(extra) if extra else "")


def _masked_email(email: str) -> str:
    user, _, domain = email.partition("@")
    return f"{user[:1]}•••@{domain}" if domain else "•••"


def number_blocks(
    outcome: NumberOutcome, *, channel_id: str, message_ts: str, pii: bool, budget: int, index: int
) -> list[dict[str, Any]]:
    """The compact card for one number: who it is (or why not yet), and how often it was seen here."""
    shown = f"*{format_number(outcome.phone)}*"
    accessory: dict[str, Any] | None = None
    if outcome.kind == FOUND and outcome.profiles:
        lines = [_record_line(p, pii=pii) for p in outcome.profiles[:MAX_RECORDS]]
        if len(outcome.profiles) > MAX_RECORDS:
            lines.append(messages.more_records_not_shown(len(outcome.profiles) - MAX_RECORDS))
        text = shown + "\n" + "\n".join(lines)
        accessory = _button("Show full card", ACTION_FULL_CARD, item_value(channel_id, message_ts, outcome.phone))
    elif outcome.kind == FOUND:
        text = f"{shown} · {messages.TRIAGE_NO_RECORD}"
    else:
        words = {
            FAILED: messages.TRIAGE_NOT_ANSWERING,
            PAUSED: messages.triage_paused(budget),
            GAVE_UP: messages.TRIAGE_GAVE_UP,
        }
        text = f"{shown} · {words.get(outcome.kind, esc(outcome.kind))}"
        if outcome.kind in (PAUSED, GAVE_UP):
            accessory = _button("Look up", ACTION_LOOKUP, item_value(channel_id, message_ts, outcome.phone))
    section: dict[str, Any] = {
        "type": "section",
        "block_id": f"nc_t_num_{index}",
        "text": {"type": "mrkdwn", "text": text[:3000]},
    }
    if accessory:
        section["accessory"] = accessory
    memory = outcome.memory
    if memory is not None and memory.seen:
        seen_text = messages.seen_across(memory.seen, here=channel_id)
    else:
        seen_text = messages.seen_times(outcome.seen)
    notes = [
        {
            "type": "mrkdwn",
            "text": messages.flagged_elsewhere(f.channel_id, f.flagged_by, outcome.drawn_at - f.flagged_at),
        }
        for f in (memory.flags if memory is not None else ())
    ]
    notes.append({"type": "mrkdwn", "text": seen_text})
    return [section, {"type": "context", "block_id": f"nc_t_seen_{index}", "elements": notes}]


def status_line(item: Any) -> str:
    parts = []
    if item.dropped_at is not None:
        parts.append(messages.dropped(item.dropped_by, item.dropped_at, item.drop_reason))
    elif item.resolved_at is not None:
        parts.append(messages.resolved(item.resolved_by, item.resolved_at))
    elif item.claimed_by:
        parts.append(messages.claimed(item.claimed_by, item.claimed_at))
    else:
        parts.append(messages.TRIAGE_OPEN)
    if item.flagged_at is not None:
        parts.append(messages.flagged(item.flagged_by, item.flagged_at))
    if item.snoozed_until is not None and item.resolved_at is None and item.dropped_at is None:
        parts.append(messages.snoozed(item.snoozed_by, item.snoozed_until))
    return " · ".join(parts)


MORE_ID = "nc_t_more"


def more_note(count: int) -> dict[str, Any]:
    """Numbers found beyond the five looked up."""
    note = {"type": "mrkdwn", "text": messages.triage_more_numbers(count)}
    return {"type": "context", "block_id": MORE_ID, "elements": [note]}


def reply_blocks(item: Any, cards: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole reply: the cards as looked up, the status, and the buttons that still apply."""
    blocks = list(cards)
    blocks.append(
        {"type": "context", "block_id": "nc_t_status", "elements": [{"type": "mrkdwn", "text": status_line(item)}]}
    )
    value = item_value(item.channel_id, item.message_ts)
    buttons = []
    if not item.done:
        # snooze and drop on a row of their own (menus), before the main buttons
        menus = [_snooze_menu(item.channel_id, item.message_ts), _drop_menu(item.channel_id, item.message_ts)]
        menus += [
            _button(
                "Verify caller" if len(item.numbers) == 1 else f"Verify {format_number(number)}",
                ACTION_VERIFY,
                item_value(item.channel_id, item.message_ts, number),
            )
            for number in item.numbers
        ]
        blocks.append({"type": "actions", "block_id": "nc_t_life", "elements": menus})
        if item.claimed_by:
            buttons.append(_button("Release", ACTION_RELEASE, value))
        else:
            buttons.append(_button("Claim", ACTION_CLAIM, value, "primary"))
        buttons.append(_button("Resolve", ACTION_RESOLVE, value))
    else:
        buttons.append(_button("Reopen", ACTION_REOPEN, value))
    if item.flagged_at is None:
        buttons.append(_button("Flag fraud", ACTION_FLAG, value, "danger"))
    if buttons:
        blocks.append({"type": "actions", "block_id": "nc_t_actions", "elements": buttons})
    return blocks


def reply_text(outcomes: Sequence[NumberOutcome]) -> str:
    """The reply's notification text (escaped: record names must not ping or link)."""
    parts = []
    for o in outcomes:
        names = ", ".join(p.display_name for p in o.profiles[:MAX_RECORDS]) if o.profiles else ""
        parts.append(f"{format_number(o.phone)}: {names or ('no record' if o.kind == FOUND else 'lookup pending')}")
    return esc("Caller " + "; ".join(parts))
