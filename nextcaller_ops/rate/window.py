"""At most N lookups per person in any minute: a sliding window in this process, with a shared one in front.

The bot's per-user limit (``NEXTCALLER_OPS_LOOKUPS_PER_MINUTE``).  Its twin across
processes is :class:`nextcaller_ops.rate.redis.SlidingWindow`, handed in as ``shared``;
while that answers None (Redis down) this process counts alone.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` lookups per user in any ``window`` seconds (sliding window).

    With ``shared`` (a counter across processes, e.g. Redis's
    :class:`~nextcaller_ops.rate.redis.SlidingWindow`) that counter decides;
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
