"""The team's memory of a number across channels (issue 26): fraud flags and sightings anywhere watched.

A card for a number flagged as fraud in another item (another channel, or another
message here) says so — "flagged as fraud in #payments 3 d ago by @x" — in every
channel and on ``/caller`` cards; "seen N times" counts every watched channel, with
the count per channel.  Read from the triage store (items and sightings are kept a week).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nextcaller_ops.stores import TriageStore
from nextcaller_ops.stores.base import FlagSeen

from .. import messages

__all__ = ["Memory", "recall", "flag_lines", "memory_block", "DAY", "WEEK"]

DAY = 86400.0
WEEK = 7 * DAY
MAX_FLAGS = 3  # shown on a card; the latest first


@dataclass(frozen=True)
class Memory:
    flags: tuple[FlagSeen, ...] = ()  # other items with the number flagged as fraud, the latest first
    seen: Mapping[str, int] = field(default_factory=dict)  # messages with the number per channel, last 24 h


def recall(store: TriageStore, phone: str, now: float, *, item: tuple[str, str] | None = None) -> Memory:
    """What the team knows of ``phone``: flags of the last week (but ``item``'s own), sightings of the last 24 h."""
    flags = tuple(f for f in store.flags_of(phone, now - WEEK) if (f.channel_id, f.message_ts) != item)
    return Memory(flags=flags[:MAX_FLAGS], seen=store.seen_by_channel(phone, now - DAY))


def flag_lines(memory: Memory, now: float) -> list[str]:
    return [messages.flagged_elsewhere(f.channel_id, f.flagged_by, now - f.flagged_at) for f in memory.flags]


def memory_block(memory: Memory, now: float, *, block_id: str = "nc_memory") -> dict[str, Any] | None:
    """A context block for a ``/caller`` card: the number's fraud flags in triage channels; None when none."""
    lines = flag_lines(memory, now)
    if not lines:
        return None
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": "\n".join(lines)[:3000]}]}
