"""Triage timers (issue 26): a nudge to whoever claimed an item and left it open, then a release.

An item claimed and not resolved after ``triage_remind_after`` (NEXTCALLER_OPS_TRIAGE_REMIND_AFTER,
default 2 h) gets one threaded nudge mentioning the claimer; after ``triage_release_after``
(default 8 h) its claim is released with a note, and the reply re-drawn.  The timers are the rows
themselves (``claimed_at``, ``reminded_at``): they survive a restart, and each fires through one
conditional UPDATE on the claim as it was read, so of several processes exactly one posts.
Run by the triage worker at every poll, on the triage clock.
"""

from __future__ import annotations

import logging

from nextcaller_ops.stores import TriageItem

from .. import messages
from .lifecycle import note
from .service import Triage

__all__ = ["fire_timers"]

log = logging.getLogger("bot.triage")


def fire_timers(triage: Triage, *, limit: int = 50) -> tuple[int, int]:
    """Nudge and release what is due now; (nudged, released) by this call."""
    now = triage.now()
    settings = triage.settings
    nudged = released = 0
    due = triage.store.claims_due(
        remind_before=now - settings.triage_remind_after,
        release_before=now - settings.triage_release_after,
        limit=limit,
    )
    for item in due:
        try:
            if item.claimed_at is not None and item.claimed_at <= now - settings.triage_release_after:
                released += _release(triage, item, now)
            elif item.reminded_at is None:
                nudged += _nudge(triage, item, now)
        except Exception:  # one item must not stop the others; its timer is still due next time
            log.exception("triage: a timer on an item in %s failed", item.channel_id)
    return nudged, released


def _nudge(triage: Triage, item: TriageItem, now: float) -> int:
    if not triage.store.claim_reminder(item, now=now):
        return 0  # another process nudged it, or the claim changed meanwhile
    note(triage, item, messages.claim_reminder(item.claimed_by, now - (item.claimed_at or now)))
    triage.audit.record(
        user_id=item.claimed_by,
        channel_id=item.channel_id,
        action="remind",
        phone=None,
        outcome="done",
        detail=item.message_ts,
    )
    return 1


def _release(triage: Triage, item: TriageItem, now: float) -> int:
    if not triage.store.release_claim(item):
        return 0
    triage.redraw(item)
    note(triage, item, messages.claim_auto_released(item.claimed_by, now - (item.claimed_at or now)))
    triage.audit.record(
        user_id=item.claimed_by,
        channel_id=item.channel_id,
        action="auto_release",
        phone=None,
        outcome="done",
        detail=item.message_ts,
    )
    return 1
