"""The pacing bucket's state and arithmetic, in this process (:class:`LocalBucket`).

The GCRA form of a token bucket with a burst of one: a single number, the time the
next request may go (``tat``); each request takes the slot at ``max(tat, now)`` and
moves ``tat`` on by ``1 / rate``.  The rate is the ceiling (``NEXTCALLER_OPS_MAX_RPS``,
:data:`HEADROOM` of the API's ``X-Rate-Limit-Limit``, or a limit estimated from 429s,
whichever is lowest) times a factor that a 429 cuts and time restores (a limit
estimated from 429s is dropped once the factor is whole again: the pacing opens up).

With no limit known and no ``max_rps``, a **slow start** (issue #25): an API that names
its limit only on its 429s would otherwise see the first burst at full concurrency.
The first request begins it at :data:`SLOW_START_RATE` (a burst of
:data:`SLOW_START_BURST` at once), and the rate doubles every :data:`SLOW_START_DOUBLING`
seconds.  It ends — for good, in this bucket — at the first limit learned (a 429's or an
answer's ``X-Rate-Limit-Limit``, which then paces as before), at a 429 without one (a limit
estimated from what the slow start sent in the last second), when the requests stop
keeping up with it (a gap of :data:`SLOW_START_IDLE` s: the concurrency, not the rate, is
what holds them), or after :data:`SLOW_START_SPAN` s (the rate is then beyond anything a
pool reaches): open.  An API naming its limit on its first answer sees only the first
answer's worth of slow start.
:class:`~nextcaller_ops.rate.redis.RedisBucket` is the same arithmetic in one Lua
script; :mod:`.pacing` uses one or the other.
"""

from __future__ import annotations

import math
import threading
from typing import Protocol

__all__ = [
    "Bucket",
    "LocalBucket",
    "HEADROOM",
    "DECREASE",
    "RECOVERY",
    "COOLDOWN",
    "MIN_FACTOR",
    "MIN_RATE",
    "SLOW_START_RATE",
    "SLOW_START_BURST",
    "SLOW_START_DOUBLING",
    "SLOW_START_IDLE",
    "SLOW_START_SPAN",
    "slow_start_rate",
    "slow_start_sent",
]

HEADROOM = 0.95  # of the API's own limit: requests sent evenly arrive a little bunched
DECREASE = 0.7  # the rate after a 429, as a share of what it was
RECOVERY = 0.05  # share of the ceiling regained per second without a 429 (0.7 → 1 in 6 s)
COOLDOWN = 1.0  # seconds: refusals closer together than this are one event
MIN_FACTOR = 0.05
MIN_RATE = 0.1  # requests/s: never slower than one every 10 s
# The slow start's cost on an API with no limit at all is the requests it did not send while
# growing (about 0.08 s of a 32-wide pool at 50 ms answers); what it saves on one that names its
# limit only on 429s is a first burst at full width.  Its refusals are about the rate it reached
# times one answer's latency, so faster doubling costs refusals and slower costs time.
SLOW_START_RATE = 80.0  # requests/s when a slow start begins
SLOW_START_BURST = 4  # requests let through at once when it begins
SLOW_START_DOUBLING = 0.05  # seconds per doubling of the slow start's rate
SLOW_START_IDLE = 0.5  # seconds with no request due: the pool, not the rate, holds them back: open
SLOW_START_SPAN = 0.5  # seconds at most (80/s → 81,920/s): open


def slow_start_rate(elapsed: float) -> float:
    """The slow start's rate ``elapsed`` seconds after it began."""
    return SLOW_START_RATE * 2.0 ** (max(0.0, elapsed) / SLOW_START_DOUBLING)


def slow_start_sent(elapsed: float) -> float:
    """About how many requests the slow start let through in the last second (the rate's integral; for estimates)."""
    scale = SLOW_START_RATE * SLOW_START_DOUBLING / math.log(2.0)
    since = max(0.0, elapsed - 1.0)
    return SLOW_START_BURST + scale * (2.0 ** (elapsed / SLOW_START_DOUBLING) - 2.0 ** (since / SLOW_START_DOUBLING))


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
        self.slow = ""  # the slow start: "" not begun, "on", "done" (never again in this bucket)
        self.slow_at = 0.0  # when it began
        self.slow_n = 0  # slots it granted (every process's, in Redis)
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        """Nothing to pace by, for good (no limit known, slow start over): the pacer may skip the bucket."""
        return self.limit == 0 and self.slow == "done"

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
            if rate == 0 and max_rps <= 0:
                return self._slow_take(now)
            if rate == 0:
                return 0.0, 0.0
            if self.slow == "on":
                self.slow = "done"  # a limit is known now: it paces
            start = max(self.tat, now)
            self.tat = start + 1.0 / rate
            return start - now, rate

    def _slow_take(self, now: float) -> tuple[float, float]:
        """A slot in the slow start (GCRA with a burst of :data:`SLOW_START_BURST`, the rate doubling), or open."""
        if self.slow == "":
            self.slow, self.slow_at, self.tat, self.slow_n = "on", now, now, 0
        elif self.slow == "on" and (now - self.tat > SLOW_START_IDLE or now - self.slow_at >= SLOW_START_SPAN):
            self.slow = "done"
        if self.slow == "done":
            return 0.0, 0.0
        tolerance = (SLOW_START_BURST - 1) / slow_start_rate(now - self.slow_at)
        start = max(now, self.tat - tolerance - 1e-9)  # 1e-9: the burst's sums are not exact in floating point
        rate = slow_start_rate(start - self.slow_at)
        self.tat = max(self.tat, start) + 1.0 / rate
        self.slow_n += 1
        return start - now, rate

    def _slow_spent(self, now: float) -> float:
        """What the slow start let through in about the last second (it lasts under one: all of it, unless idle)."""
        return (
            float(self.slow_n) if now - self.slow_at <= 1.0 else min(self.slow_n, slow_start_sent(now - self.slow_at))
        )

    def learn(self, now: float, max_rps: float, limit: float, here: float, api: float) -> bool:
        with self._lock:
            self._recover(now)
            if limit <= 0:
                return True
            self.limit, self.source = limit, "api"
            rate = self._rate(max_rps)
            if self.slow == "on":  # its slots were spaced for its own rate: what it sent is spent, not its schedule
                self.slow = "done"
                self.tat = now + self._slow_spent(now) / rate
            self.tat = max(max(self.tat, now) + max(0.0, here) / rate, now + max(0.0, api) / rate)
            return True

    def refused(self, now: float, max_rps: float, limit: float, estimate: float) -> bool:
        with self._lock:
            self._recover(now)
            slow = self.slow == "on"
            if slow:  # the slow start found the limit: what it sent in the last second is the estimate's floor
                self.slow = "done"
                self.tat = min(self.tat, now)  # its schedule is over (the 429's Retry-After makes the retry wait)
                estimate = max(estimate, self._slow_spent(now))
            if limit > 0:
                self.limit, self.source = limit, "api"
            elif self.limit <= 0 and max_rps <= 0:
                self.limit, self.source = max(1.0, estimate), "refusals"
            if slow and limit > 0:
                # Not a rate to cut (none was in force): the API named its limit and says its window is
                # full, so wait a window's worth; the rest of this burst's refusals are the same event.
                self.tat = max(self.tat, now + limit / self._rate(max_rps))
                self.cut_at = now
            elif self.cut_at is None or now - self.cut_at >= COOLDOWN:
                self.factor = max(MIN_FACTOR, self.factor * DECREASE)
                self.cut_at = now
            return True

    def state(self, now: float, max_rps: float) -> tuple[float, float, str, float]:
        with self._lock:
            self._recover(now)
            # a slow start is not a limit: the surfaces say none is known (it lasts under a second)
            return self._rate(max_rps), self.limit, self.source, self.factor
