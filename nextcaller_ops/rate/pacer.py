"""Keep to the account's request rate: a token bucket per consumer key and API base URL.

>>> pacer = pacer_for(settings, credentials)   # one per key and API in this process   # doctest: +SKIP
>>> pacer.wait()           # before every attempt: seconds until this request's slot (the transport sleeps)
>>> pacer.observe(answer)  # after every answer: learns ``X-Rate-Limit-Limit``, backs off on a 429
>>> pacer.state()          # what ``status`` and the CLI's progress line show (:class:`PacingState`)

The rate:

* ``NEXTCALLER_OPS_MAX_RPS`` (``settings.max_rps``) caps it explicitly;
* otherwise it starts with a slow start (:mod:`.bucket`: a small rate, doubling until the
  first limit or refusal, or until the requests no longer keep up with it, then open), and
  drops to the API's ``X-Rate-Limit-Limit`` when an answer carries one (paced at
  :data:`HEADROOM` of it: requests bunch up on the way, and the API counts them where they
  arrive) — an API that names its limit only on its 429s is found by the slow start's first
  refusal, not by a first burst at full concurrency;
* a 429 multiplies the rate by :data:`DECREASE` (at most once per :data:`COOLDOWN`
  seconds: a burst of refusals is one event), and it recovers by :data:`RECOVERY` of
  the ceiling per second.  A 429 before any limit is known estimates one from the
  answers of the last second.

The bucket (:mod:`.bucket`) gives each request its own slot, so concurrent threads go
out evenly spaced.  :class:`~nextcaller_ops.rate.bucket.LocalBucket` keeps it in this
process; with ``NEXTCALLER_OPS_REDIS_URL`` :class:`~nextcaller_ops.rate.redis.RedisBucket`
keeps the same state in Redis, changed by one atomic script, so every process using
the key shares one budget — and while Redis is down each process paces on its own.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .. import metrics
from .bucket import Bucket, LocalBucket

if TYPE_CHECKING:
    import requests

    from ..config import Settings
    from ..credentials import Credentials

__all__ = ["PacingState", "TokenBucketPacer", "pacer_for", "parse_limit"]

T = TypeVar("T")


@dataclass(frozen=True)
class PacingState:
    """What the pacer knows: for ``status`` and progress lines (the surfaces word it)."""

    rate: float | None  # requests/s paced at now; None: not paced
    limit: float | None  # the API's limit, or one estimated from refusals
    limit_source: str | None  # "api" (X-Rate-Limit-Limit) or "refusals" (estimated from 429s)
    max_rps: float | None  # NEXTCALLER_OPS_MAX_RPS
    factor: float = 1.0  # below 1: backed off after a 429, recovering
    shared: bool = False  # kept in Redis with every process using the key
    redis_down: bool = False  # Redis is configured but not answering: paced in this process meanwhile


def parse_limit(value: str | None) -> float | None:
    """The number at the start of a rate-limit header (``50``, ``50.0``, ``50, 50;w=1``), or None."""
    if not value:
        return None
    match = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    if match is None:
        return None
    number = float(match.group(1))
    return number if math.isfinite(number) else None


class TokenBucketPacer:
    """The transport's :class:`~nextcaller_ops.client.client.transport.Pacer`: a bucket, shared in Redis when there is one."""

    def __init__(
        self,
        *,
        max_rps: float | None = None,
        shared: Bucket | None = None,
        clock: Callable[[], float] = time.monotonic,
        shared_clock: Callable[[], float] | None = None,
    ):
        self.max_rps = float(max_rps or 0.0)
        self.local = LocalBucket()
        self.shared = shared
        self._clock = clock
        self._shared_clock = shared_clock or (lambda: 0.0)  # 0: the Redis server's own clock
        self._hint = 0.0  # the API's limit as this process last saw it
        self._second = (0.0, 0)  # (start, requests sent unpaced) of the current second
        self._last_second = 0
        self.last_rate = 0.0  # what the last request was paced at (0: open)
        self._redis_down = False

    def _ask(self, fn: Callable[[Bucket, float], T | None]) -> T:
        """``fn`` on the shared bucket, or on this process's while Redis is down (or not configured)."""
        if self.shared is not None:
            answer = fn(self.shared, self._shared_clock())
            self._redis_down = answer is None
            if answer is not None:
                return answer
        local = fn(self.local, self._clock())
        assert local is not None  # the local bucket always answers
        return local

    def _tell(self, fn: Callable[[Bucket, float], bool | None]) -> None:
        """What an answer taught: to the shared bucket, and to this process's (the stand-in while Redis is down)."""
        if self.shared is not None:
            self._redis_down = fn(self.shared, self._shared_clock()) is None
        fn(self.local, self._clock())

    def wait(self) -> float | None:
        """Reserve the next request's slot; the seconds until it (the caller sleeps)."""
        if self.shared is None and self.max_rps == 0 and self.local.open:
            self._count()
            return None  # open: nothing known, the slow start over, nothing to wait for
        delay, self.last_rate = self._ask(lambda b, now: b.take(now, self.max_rps, self._hint))
        metrics.PACING_RATE.set(self.last_rate)
        if self.last_rate == 0:
            self._count()
        return delay

    def observe(self, response: requests.Response) -> None:
        headers = response.headers
        limit = parse_limit(headers.get("X-Rate-Limit-Limit")) or 0.0
        if response.status_code == 429:
            estimate = float(self._sent_lately())
            self._hint = limit or self._hint
            self._tell(lambda b, now: b.refused(now, self.max_rps, limit, estimate))
            return
        if limit > 0 and limit != self._hint:
            self._hint = limit
            # Spent already: what this process sent unpaced in the last second (not in the bucket: added to
            # it, as another process's may be), and at least what the API says it has counted (the answer
            # read first may be the one it counted first, when its window was emptier).
            remaining = parse_limit(headers.get("X-Rate-Limit-Remaining"))
            here = float(self._sent_lately())
            api = limit - remaining if remaining is not None else 0.0
            self._tell(lambda b, now: b.learn(now, self.max_rps, limit, here, api))

    def _count(self) -> None:
        """One more request sent unpaced (a rough count per second, not locked: it only feeds estimates)."""
        now = self._clock()
        start, sent = self._second
        if now - start >= 1.0:
            self._last_second = sent if now - start < 2.0 else 0
            start, sent = now, 0
        self._second = (start, sent + 1)

    def _sent_lately(self) -> int:
        """Requests sent unpaced in about the last second: the last whole second's or this one's so far."""
        start, sent = self._second
        return max(sent, self._last_second if self._clock() - start < 1.0 else 0)

    def state(self) -> PacingState:
        rate, limit, source, factor = self._ask(lambda b, now: b.state(now, self.max_rps))
        return PacingState(
            rate=rate or None,
            limit=limit or None,
            limit_source=source or None,
            max_rps=self.max_rps or None,
            factor=factor,
            shared=self.shared is not None and not self._redis_down,
            redis_down=self.shared is not None and self._redis_down,
        )


_pacers: dict[tuple[object, ...], TokenBucketPacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(settings: Settings, credentials: Credentials) -> TokenBucketPacer:
    """This process's pacer for the key and API (one budget however many clients use them)."""
    from ..stores.redis import namespace

    ns = namespace(settings.base_url, credentials.consumer_key)
    key = (ns, settings.max_rps, settings.redis_url, settings.redis_prefix)
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            shared = None
            if settings.redis_url:
                from ..stores.redis import shared_redis
                from .redis import RedisBucket

                shared = RedisBucket(shared_redis(settings.redis_url, settings.redis_prefix), ns)
            pacer = _pacers[key] = TokenBucketPacer(max_rps=settings.max_rps, shared=shared)
        return pacer
