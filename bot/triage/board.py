"""App Home as the triage board (issue 26): what every watched channel has open, for whoever opens it.

Open items across watched channels oldest first (with links), the viewer's own claims,
repeat callers of the last 7 days across channels, recent fraud flags, snoozes in force.
Valid Block Kit within Slack's limits: a handful of blocks (far below 100), each text cut
to fit 3,000 characters with a line saying how many more there are.
"""

from __future__ import annotations

from typing import Any

from nextcaller_ops.api.render import format_number
from nextcaller_ops.stores.base import OpenItem

from .. import messages
from .digest import watched_channels
from .service import Triage

__all__ = ["board_blocks", "TEXT_LIMIT"]

WEEK = 7 * 86400.0
DAY = 86400.0
TEXT_LIMIT = 3000  # Slack's limit for a section's text
PER_CHANNEL = 50  # open items read per channel (a bounded page each: /caller triage's)
SHOWN = 20  # open items listed on the board


def _link(channel_id: str, ts: str) -> str:
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def _fit(title: str, lines: list[str], total: int | None = None) -> str:
    """``title`` and as many ``lines`` as fit in one section's text, then how many more there are."""
    total = len(lines) if total is None else total
    room = TEXT_LIMIT - 40  # kept for the "… and N more." line
    text, shown = title, 0
    for line in lines:
        if len(text) + 1 + len(line) > room:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += "\n" + messages.triage_more_items(total - shown)
    return text


def _section(block_id: str, text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _open_line(channel_id: str, item: OpenItem) -> str:
    numbers = ", ".join(format_number(n) for n in item.numbers) or "a message"
    who = f"claimed by {messages.mention(item.claimed_by)}" if item.claimed_by else "unclaimed"
    return f"• <{_link(channel_id, item.message_ts)}|{messages.esc(numbers)}> in {messages.channel(channel_id)} · since {messages.when(item.created)} · {who}"


def board_blocks(triage: Triage, viewer: str | None) -> list[dict[str, Any]]:
    """The board's blocks for ``viewer`` (at most 12, each text within Slack's 3,000 characters)."""
    now = triage.now()
    channels = watched_channels(triage)
    blocks: list[dict[str, Any]] = [
        {"type": "divider", "block_id": "board_div"},
        {"type": "header", "block_id": "board_head", "text": {"type": "plain_text", "text": "Triage board"}},
    ]
    if not channels:
        blocks.append(_section("board_none", messages.BOARD_NOTHING_WATCHED))
        return blocks
    open_items: list[tuple[str, OpenItem]] = []
    total = 0
    for channel_id in channels:
        items, count = triage.open_summary(channel_id, PER_CHANNEL)
        open_items += [(channel_id, i) for i in items]
        total += count
    open_items.sort(key=lambda pair: (pair[1].created, pair[1].message_ts))
    lines = [_open_line(c, i) for c, i in open_items[:SHOWN]]
    title = messages.board_open_title(total, len(channels))
    blocks.append(_section("board_open", _fit(title, lines, total) if lines else messages.BOARD_NOTHING_OPEN))

    mine = [_open_line(c, i) for c, i in open_items if viewer and i.claimed_by == viewer]
    blocks.append(
        _section("board_mine", _fit(messages.BOARD_MINE_TITLE, mine) if mine else messages.BOARD_NOTHING_MINE)
    )

    repeat = triage.store.repeat_callers(None, now - WEEK, limit=10)
    if repeat:
        lines = [f"• {format_number(phone)} ×{times}" for phone, times in repeat]
        blocks.append(_section("board_repeat", _fit(messages.BOARD_REPEAT_TITLE, lines)))
    flags = triage.store.recent_flags(now - WEEK, limit=10)
    if flags:
        lines = []
        for f in flags:
            item = triage.store.get(f.channel_id, f.message_ts)
            numbers = ", ".join(format_number(n) for n in (item.numbers if item else [])) or "a message"
            lines.append(
                f"• <{_link(f.channel_id, f.message_ts)}|{messages.esc(numbers)}> in {messages.channel(f.channel_id)}"
                f" {messages.ago(now - f.flagged_at)} by {messages.mention(f.flagged_by)}"
            )
        blocks.append(_section("board_flags", _fit(messages.BOARD_FLAGS_TITLE, lines)))
    snoozes = triage.store.snoozes(now, limit=20)
    if snoozes:
        lines = [
            f"• {format_number(s.phone)} in {messages.channel(s.channel_id)} by {messages.mention(s.by)} until {messages.when(s.until)}"
            for s in snoozes
        ]
        blocks.append(_section("board_snoozes", _fit(messages.BOARD_SNOOZES_TITLE, lines)))
    return blocks
