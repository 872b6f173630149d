"""When to open the next Socket Mode connection: at once after one that stayed up, later and later
after ones that die young.

A server that accepts the WebSocket and closes it at once (a proxy in trouble, an outage) made the
bot call ``apps.connections.open`` hundreds of times a second, because each new connection started
the back-off afresh.  Here the count survives across connections: each connection that dies within
:data:`STABLE_SECONDS` of opening, and each failed attempt to open one, doubles the wait before the
next (from :data:`FIRST_DELAY`, capped at :data:`MAX_DELAY`), with jitter so that many bot
processes do not reconnect in step.  Only a connection that stayed up :data:`STABLE_SECONDS`
resets it: losing such a one is ordinary (Slack restarts its servers), and the next connection is
opened at once.  Against a server that closes everything, that is at most eight opens in the
first minute, then one every 15-30 s.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

__all__ = ["Reconnects", "STABLE_SECONDS", "FIRST_DELAY", "MAX_DELAY"]

STABLE_SECONDS = 30.0  # a connection that lived this long was a good one: its loss resets the back-off
FIRST_DELAY = 1.0
MAX_DELAY = 30.0


class Reconnects:
    """The back-off shared by every connection of one Socket Mode client (thread-safe)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        first: float = FIRST_DELAY,
        cap: float = MAX_DELAY,
        stable: float = STABLE_SECONDS,
    ):
        self._clock = clock
        self._jitter = jitter
        self.first, self.cap, self.stable = first, cap, stable
        self._failures = 0
        self._floor = 0.0  # a wait Slack asked for (Retry-After), for the next attempt only
        self._lock = threading.Lock()

    @property
    def failures(self) -> int:
        """Connections that died young and attempts that failed since the last good connection."""
        return self._failures

    def ended(self, opened_at: float) -> None:
        """The connection opened at ``opened_at`` (on this clock) is gone."""
        with self._lock:
            if self._clock() - opened_at >= self.stable:
                self._failures = 0
            else:
                self._failures += 1

    def failed(self, *, at_least: float = 0.0) -> None:
        """An attempt to open a connection failed; ``at_least``: the seconds Slack asked us to wait."""
        with self._lock:
            self._failures += 1
            self._floor = max(self._floor, at_least)

    def delay(self) -> float:
        """Seconds to wait before the next attempt; 0 after a good connection."""
        with self._lock:
            floor, self._floor = self._floor, 0.0
            if not self._failures:
                return floor
            full = min(self.cap, self.first * 2 ** min(self._failures - 1, 32))
            # "Equal jitter": at least half the full wait, so the waits still grow; never in step.
            return max(floor, full / 2 + self._jitter() * full / 2)
