"""Who may look up where, what a shared card may show, and a per-user rate limit.

Decisions only: the sentences people see are in :mod:`bot.messages`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Policy", "Refusal", "RateLimiter"]


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


class RateLimiter:
    """At most ``limit`` lookups per user in any ``window`` seconds (sliding window).

    With ``shared`` (a counter across processes, e.g. Redis's
    :class:`~nextcaller_ops.shared_limits.SlidingWindow`) that counter decides;
    while it answers None (Redis down) this process counts alone.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        shared: Callable[[str], float | None] | None = None,
    ):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._shared = shared
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait_time(self, user_id: str) -> float:
        """0 when this lookup may go ahead (and counts it); else seconds until it may."""
        if self.limit <= 0:
            return 0.0
        if self._shared is not None:
            wait = self._shared(user_id)
            if wait is not None:
                return wait
        now = self._clock()
        with self._lock:
            q = self._seen.setdefault(user_id, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return self.window - (now - q[0])
            q.append(now)
            return 0.0
