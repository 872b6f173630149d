"""What became of one number in a watched message: found (records, maybe none), failed, paused, given up."""

from __future__ import annotations

from dataclasses import dataclass, field

from nextcaller_ops.api.models import Profile

from .memory import Memory

__all__ = ["FOUND", "FAILED", "PAUSED", "GAVE_UP", "NumberOutcome"]

FOUND = "found"  # the API answered: records, or none ("No record.")
FAILED = "failed"  # the API did not answer: retried later
PAUSED = "paused"  # over the channel's budget: looked up when there is room
GAVE_UP = "gave_up"  # a refusal that retrying will not change, or retried for too long


@dataclass(frozen=True)
class NumberOutcome:
    phone: str
    kind: str
    seen: int  # messages in this channel with this number in the last 24 h, this one included
    profiles: tuple[Profile, ...] = field(default=())
    wait: float = 0.0  # for PAUSED: seconds until the budget has room
    memory: Memory | None = None  # what the team knows of the number across channels (flags, sightings)
    drawn_at: float = 0.0  # when the card is drawn ("flagged 3 d ago" is counted from here)
