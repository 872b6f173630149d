"""An item's life after the lookup (issue 26): snooze, drop with a reason, reopen; snoozed numbers.

Each change is one conditional UPDATE in the store (two people pressing at once:
one wins), re-draws the reply in place and adds one line to the item's thread.
While a number is snoozed in a channel, a new message with it gets a one-line
note in its thread and no lookup (:func:`screen`).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk.errors import SlackClientError

from nextcaller_ops.api.render import format_number
from nextcaller_ops.stores import TriageItem
from nextcaller_ops.stores.base import DROP_REASONS

from .. import messages
from . import cards
from .intake import Message
from .service import Triage

__all__ = ["snooze", "drop", "reopen", "screen", "snooze_seconds"]

log = logging.getLogger("bot.triage")


def snooze_seconds(label: str | None) -> float | None:
    """A snooze menu's choice (``1h``, ``4h``, ``24h``) in seconds; None for anything else."""
    return dict(cards.SNOOZE_CHOICES).get(label or "")


def _after(triage: Triage, item: TriageItem, changed: bool, line: str) -> None:
    if changed:
        triage.redraw(item)
        note(triage, item, line)


def note(triage: Triage, item: TriageItem, line: str) -> None:
    """One line in the item's thread (not retried: the reply shows the same state)."""
    try:
        triage.web.chat_postMessage(channel=item.channel_id, thread_ts=item.thread_ts, text=line)
    except SlackClientError as exc:
        log.warning("triage: a note in %s was not posted: %s", item.channel_id, type(exc).__name__)


def snooze(triage: Triage, channel_id: str, message_ts: str, user_id: str, seconds: float) -> tuple[TriageItem, bool]:
    """Snooze the item and its numbers in its channel; raises KeyError for an unknown item."""
    now = triage.now()
    item, changed = triage.store.snooze(channel_id, message_ts, user_id, now, now + seconds)
    _after(triage, item, changed, messages.snoozed_line(user_id, now + seconds))
    return item, changed


def drop(triage: Triage, channel_id: str, message_ts: str, user_id: str, reason: str) -> tuple[TriageItem, bool]:
    if reason not in DROP_REASONS:
        raise ValueError(f"not a drop reason: {reason!r}")
    item, changed = triage.store.drop(channel_id, message_ts, user_id, triage.now(), reason)
    _after(triage, item, changed, messages.dropped_line(user_id, reason))
    if changed:  # an outgoing webhook (nextcaller_ops.webhooks): queued, never waited on
        data = {"channel_id": channel_id, "message_ts": message_ts, "by": user_id, "reason": reason}
        triage.emit("triage.dropped", data)
    return item, changed


def reopen(triage: Triage, channel_id: str, message_ts: str, user_id: str) -> tuple[TriageItem, bool]:
    item, changed = triage.store.reopen(channel_id, message_ts, user_id, triage.now())
    _after(triage, item, changed, messages.reopened_line(user_id))
    return item, changed


def screen(triage: Triage, message: Message) -> Message | None:
    """``message`` without the team's internal numbers (never looked up, never answered) and its snoozed
    numbers (noted in one line in its thread, not looked up, audited); None when nothing is left."""
    internal = triage.settings.internal_numbers
    if internal and any(n.number in internal for n in message.numbers):
        message = replace(message, numbers=[n for n in message.numbers if n.number not in internal])
        if not message.numbers:
            return None
    now = triage.now()
    snoozes = [s for n in message.numbers if (s := triage.store.snoozed(message.channel_id, n.number, now))]
    if not snoozes:
        return message
    quiet = {s.phone for s in snoozes}
    shown = ", ".join(format_number(s.phone) for s in snoozes)
    first = snoozes[0]
    try:
        triage.web.chat_postMessage(
            channel=message.channel_id,
            thread_ts=message.thread_ts,
            text=messages.snooze_note(first.by, first.until, shown),
        )
    except SlackClientError as exc:
        log.warning("triage: a snooze note in %s was not posted: %s", message.channel_id, type(exc).__name__)
    for s in snoozes:
        triage.audit.record(
            user_id=message.poster,
            channel_id=message.channel_id,
            action="triage_lookup",
            phone=s.phone,
            outcome="skipped: snoozed",
            detail=f"by {s.by} until {int(s.until)}",
        )
    rest = [n for n in message.numbers if n.number not in quiet]
    return replace(message, numbers=rest) if rest else None
