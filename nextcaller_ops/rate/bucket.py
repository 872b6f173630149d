"""The pacing bucket's state and arithmetic, in this process (:class:`LocalBucket`).

The GCRA form of a token bucket with a burst of one: a single number, the time the
next request may go (``tat``); each request takes the slot at ``max(tat, now)`` and
moves ``tat`` on by ``1 / rate``.  The rate is the ceiling (``NEXTCALLER_OPS_MAX_RPS``,
:data:`HEADROOM` of the API's ``X-Rate-Limit-Limit``, or a limit estimated from 429s,
whichever is lowest) times a factor that a 429 cuts and time restores (a limit
estimated from 429s is dropped once the factor is whole again: the pacing opens up).
:class:`~nextcaller_ops.rate.redis.RedisBucket` is the same arithmetic in one Lua
script; :mod:`.pacing` uses one or the other.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["Bucket", "LocalBucket", "HEADROOM", "DECREASE", "RECOVERY", "COOLDOWN", "MIN_FACTOR", "MIN_RATE"]

HEADROOM = 0.95  # of the API's own limit: requests sent evenly arrive a little bunched
DECREASE = 0.7  # the rate after a 429, as a share of what it was
RECOVERY = 0.05  # share of the ceiling regained per second without a 429 (0.7 → 1 in 6 s)
COOLDOWN = 1.0  # seconds: refusals closer together than this are one event
MIN_FACTOR = 0.05
MIN_RATE = 0.1  # requests/s: never slower than one every 10 s


class Bucket(Protocol):
    """The bucket's state and arithmetic; every method returns None when it cannot answer (Redis down)."""

    def take(self, now: float, max_rps: float, hint: float) -> tuple[float, float] | None:
        """Reserve the next slot: (seconds to wait, rate paced at; 0 = open)."""

    def learn(self, now: float, max_rps: float, limit: float, here: float, api: float) -> bool | None:
        """The API's limit, as one process first read it.

        ``here``: requests that process sent unpaced, which the bucket has not counted
        (they are added: two processes may both have started open); ``api``: what the
        API says it has counted (``limit - remaining``) — the next slot waits for both.
        """

    def refused(self, now: float, max_rps: float, limit: float, estimate: float) -> bool | None:
        """A 429: back off (``limit`` 0: not sent; ``estimate``: answers in the last second)."""

    def state(self, now: float, max_rps: float) -> tuple[float, float, str, float] | None:
        """(rate, limit, source, factor); rate and limit 0 when unknown."""


class LocalBucket:
    """The bucket in this process.  ``now`` is any clock in seconds (tests pass a fake one).

    :class:`~nextcaller_ops.rate.redis.RedisBucket`'s script is this class in Lua:
    change both together (``tests/core/test_pacing.py`` runs one scenario on both).
    """

    def __init__(self) -> None:
        self.tat = 0.0
        self.limit = 0.0
        self.source = ""  # "api" or "refusals"
        self.factor = 1.0
        self.factor_at: float | None = None
        self.cut_at: float | None = None
        self._lock = threading.Lock()

    def _recover(self, now: float) -> None:
        if self.factor_at is not None:
            self.factor = min(1.0, self.factor + RECOVERY * max(0.0, now - self.factor_at))
        self.factor_at = now
        if self.source == "refusals" and self.factor >= 1.0:
            self.limit, self.source = 0.0, ""  # an estimate, not the API's word: recovered, open again

    def _rate(self, max_rps: float) -> float:
        ceiling = self.limit * (HEADROOM if self.source == "api" else 1.0) if self.limit > 0 else 0.0
        if max_rps > 0 and (ceiling == 0 or max_rps < ceiling):
            ceiling = max_rps
        return max(MIN_RATE, ceiling * self.factor) if ceiling > 0 else 0.0

    def take(self, now: float, max_rps: float, hint: float) -> tuple[float, float]:
        with self._lock:
            self._recover(now)
            if hint > 0 and self.source != "api":
                self.limit, self.source = hint, "api"
            rate = self._rate(max_rps)
            if rate == 0:
                return 0.0, 0.0
            start = max(self.tat, now)
            self.tat = start + 1.0 / rate
            return start - now, rate

    def learn(self, now: float, max_rps: float, limit: float, here: float, api: float) -> bool:
        with self._lock:
            self._recover(now)
            if limit <= 0:
                return True
            self.limit, self.source = limit, "api"
            rate = self._rate(max_rps)
            self.tat = max(max(self.tat, now) + max(0.0, here) / rate, now + max(0.0, api) / rate)
            return True

    def refused(self, now: float, max_rps: float, limit: float, estimate: float) -> bool:
        with self._lock:
            self._recover(now)
            if limit > 0:
                self.limit, self.source = limit, "api"
            elif self.limit <= 0 and max_rps <= 0:
                self.limit, self.source = max(1.0, estimate), "refusals"
            if self.cut_at is None or now - self.cut_at >= COOLDOWN:
                self.factor = max(MIN_FACTOR, self.factor * DECREASE)
                self.cut_at = now
            return True

    def state(self, now: float, max_rps: float) -> tuple[float, float, str, float]:
        with self._lock:
            self._recover(now)
            return self._rate(max_rps), self.limit, self.source, self.factor
