"""Who may look up where, what a shared card may show, and a per-user rate limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["Policy", "RateLimiter"]


@dataclass(frozen=True)
class Policy:
    allowed_channels: frozenset[str] | None = None  # None: every channel
    allowed_users: frozenset[str] | None = None  # None: everyone
    pii_channels: frozenset[str] = frozenset()

    def refusal(self, user_id: str | None, channel_id: str | None) -> str | None:
        """A polite sentence when ``user_id`` may not look up in ``channel_id``; None when allowed."""
        if self.allowed_users is not None and user_id not in self.allowed_users:
            return (
                "Sorry — caller lookups are limited to approved agents. "
                "Ask a workspace admin to add you to NEXTCALLER_OPS_ALLOWED_USERS."
            )
        if self.allowed_channels is not None and channel_id not in self.allowed_channels:
            return (
                "Sorry — caller lookups aren't enabled in this channel. "
                "Try a triage channel, or ask an admin to add it to NEXTCALLER_OPS_ALLOWED_CHANNELS."
            )
        return None

    def redact_shared(self, channel_id: str | None) -> bool:
        """Shared cards hide email and street unless the channel is cleared for them."""
        return channel_id not in self.pii_channels


class RateLimiter:
    """At most ``limit`` lookups per user in any ``window`` seconds (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait_time(self, user_id: str) -> float:
        """0 when this lookup may go ahead (and counts it); else seconds until it may."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            q = self._seen.setdefault(user_id, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return self.window - (now - q[0])
            q.append(now)
            return 0.0
