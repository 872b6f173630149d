"""The triage digest (issue 26): per watched channel, what changed since the last one.

At the times of day in ``digest_at`` (NEXTCALLER_OPS_DIGEST_AT, e.g. ``08:00,16:00``, in
NEXTCALLER_OPS_TIMEZONE), each watched channel gets a digest — posted in
NEXTCALLER_OPS_DIGEST_CHANNEL, or in the channel itself — only when something happened
there since the last one: opened, claimed, resolved, dropped and flagged counts, the
oldest open items with links (the unclaimed ones older than NEXTCALLER_OPS_TRIAGE_STALE_AFTER
marked), and repeat callers.  Each scheduled time is taken by one process (a conditional
upsert in the store); ``/caller digest`` (admins) posts one now, whatever changed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackClientError

from nextcaller_ops.api.render import format_number

from .. import messages
from .service import Triage

__all__ = ["watched_channels", "due_slot", "run_scheduled", "post_digest", "digest_blocks"]

log = logging.getLogger("bot.triage")

DAY = 86400.0
OLDEST = 5  # open items listed
NOW_SLOT = "now"


def watched_channels(triage: Triage) -> list[str]:
    """The settings' channels and those an admin turned on, minus those an admin turned off."""
    channels = set(triage.settings.watch_channels) | set(triage.store.watched_channels())
    return sorted(c for c in channels if triage.watched(c))


def due_slot(now: float, times: tuple[tuple[int, int], ...], zone: str) -> str | None:
    """The latest scheduled time at or before ``now`` (local ``YYYY-MM-DD HH:MM``); None without times."""
    if not times:
        return None
    local = datetime.fromtimestamp(now, ZoneInfo(zone))
    for day in (local.date(), local.date() - timedelta(days=1)):
        for hour, minute in sorted(times, reverse=True):
            at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
            if at <= local:
                return at.strftime("%Y-%m-%d %H:%M")
    return None


def run_scheduled(triage: Triage, *, after: str | None = None) -> tuple[str | None, int]:
    """Post the scheduled digests that are due and not yet taken (by this process or another): (the slot
    looked at, how many posted).  ``after``: the slot this process last looked at (nothing to do again)."""
    slot = due_slot(triage.now(), triage.settings.digest_at, triage.settings.timezone)
    if slot is None or slot == after:
        return slot, 0
    posted = 0
    for channel_id in watched_channels(triage):
        taken, last = triage.store.take_digest_slot(channel_id, slot)
        if taken:
            since = last if last is not None else triage.now() - DAY
            posted += post_digest(triage, channel_id, since=since, slot=slot)
    return slot, posted


def post_digest(triage: Triage, channel_id: str, *, since: float, slot: str = NOW_SLOT, force: bool = False) -> bool:
    """Post ``channel_id``'s digest of what happened since ``since``; only when something did, unless ``force``."""
    now = triage.now()
    counts = triage.store.activity(channel_id, since)
    if not force and not any(counts.values()):
        return False
    text, blocks = digest_blocks(triage, channel_id, counts, since=since, now=now)
    try:
        triage.web.chat_postMessage(channel=triage.settings.digest_channel or channel_id, text=text, blocks=blocks)
    except SlackClientError as exc:
        log.warning("triage: the digest of %s was not posted: %s", channel_id, type(exc).__name__)
        return False
    triage.store.digest_posted(channel_id, slot, now)
    return True


def _link(channel_id: str, ts: str) -> str:
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def digest_blocks(
    triage: Triage, channel_id: str, counts: dict[str, int], *, since: float, now: float
) -> tuple[str, list[dict[str, Any]]]:
    """The digest's notification text and blocks (valid Block Kit, a few blocks, each text within 3,000)."""
    items, total = triage.open_summary(channel_id, OLDEST)
    stale_before = now - triage.settings.triage_stale_after
    repeat = triage.store.repeat_callers(channel_id, now - DAY)
    title = messages.digest_title(channel_id, since)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "nc_digest_title", "text": {"type": "mrkdwn", "text": title}},
        {
            "type": "context",
            "block_id": "nc_digest_counts",
            "elements": [{"type": "mrkdwn", "text": messages.digest_counts(counts)}],
        },
    ]
    if items:
        lines = [
            messages.digest_open_item(
                _link(channel_id, i.message_ts),
                ", ".join(format_number(n) for n in i.numbers) or "a message",
                i.created,
                claimed_by=i.claimed_by,
                stale=i.claimed_by is None and i.created <= stale_before,
            )
            for i in items
        ]
        if total > len(items):
            lines.append(messages.triage_more_items(total - len(items)))
        text = messages.digest_open_title(total) + "\n" + "\n".join(lines)
        blocks.append(
            {"type": "section", "block_id": "nc_digest_open", "text": {"type": "mrkdwn", "text": text[:3000]}}
        )
    if repeat:
        text = (
            messages.digest_repeat_title()
            + "\n"
            + "\n".join(f"• {format_number(phone)} ×{times}" for phone, times in repeat)
        )
        blocks.append(
            {"type": "section", "block_id": "nc_digest_repeat", "text": {"type": "mrkdwn", "text": text[:3000]}}
        )
    return messages.digest_text(channel_id, counts), blocks
