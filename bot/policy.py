"""Who may look up where and what a shared card may show (the per-user limit: nextcaller_ops.rate.window).

Decisions only: the sentences people see are in :mod:`bot.messages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Policy", "Refusal"]


class Refusal(StrEnum):
    """Why the policy refused someone."""

    USER = "user"  # not in NEXTCALLER_OPS_ALLOWED_USERS
    CHANNEL = "channel"  # not in NEXTCALLER_OPS_ALLOWED_CHANNELS


@dataclass(frozen=True)
class Policy:
    allowed_channels: frozenset[str] | None = None  # None: every channel
    allowed_users: frozenset[str] | None = None  # None: everyone
    pii_channels: frozenset[str] = frozenset()

    def refusal(self, user_id: str | None, channel_id: str | None, *, check_channel: bool = True) -> Refusal | None:
        """Why ``user_id`` may not look up in ``channel_id`` (the user is checked first); None when allowed.

        ``check_channel=False`` for what happens in nobody's channel (App Home).
        """
        if self.allowed_users is not None and user_id not in self.allowed_users:
            return Refusal.USER
        if check_channel and self.channel_refused(channel_id):
            return Refusal.CHANNEL
        return None

    def channel_refused(self, channel_id: str | None) -> bool:
        return self.allowed_channels is not None and channel_id not in self.allowed_channels

    def redact_shared(self, channel_id: str | None) -> bool:
        """Shared cards hide email and street unless the channel is cleared for them."""
        return channel_id not in self.pii_channels
