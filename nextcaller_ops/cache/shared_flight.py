"""Single-flight across processes: of many processes asking for one key at once, one asks the API.

The first takes a short lock in Redis (``SET {prefix}:flight:{ns}:{key} token NX PX``),
asks, writes its answer under ``{prefix}:flight:{ns}:{key}:{token}`` for a few
seconds, and releases the lock (only its own: compare-and-delete).  The others
read whose lock it is and wait for that answer (polling, a few ms apart):

* the answer arrives → they use it (no request of their own);
* the holder failed (its answer is the failure marker) → each asks for itself;
* the lock vanished with no answer (the holder died and the lock expired) → they
  try to take the lock again, so one of them asks;
* they waited the lock's whole life, or Redis fails → each asks for itself.

The same rules in one process are :class:`nextcaller_ops.client.client.NextCallerClient`'s
in-process single-flight; this runs behind it, once per process and key.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from .. import metrics
from ..stores.redis import SharedRedis

__all__ = ["SharedFlight"]

T = TypeVar("T")

_DOWN = object()
_FAILED = b"\x00failed"
# Delete the lock only if it is still ours (it may have expired and been taken by another).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _take(lock: str, token: str, ms: int, r: Any) -> Any:
    return r.set(lock, token, nx=True, px=ms)


class SharedFlight:
    def __init__(self, shared: SharedRedis, ns: str, *, lock_seconds: float = 15.0, poll_seconds: float = 0.02):
        self.shared = shared
        self.ns = ns
        self.lock_seconds = lock_seconds
        self.poll_seconds = poll_seconds

    def _lock_key(self, key: str) -> str:
        return self.shared.key("flight", self.ns, key)

    def run(
        self,
        key: str,
        fetch: Callable[[], T],
        *,
        encode: Callable[[T], str],
        decode: Callable[[bytes], T],
        recheck: Callable[[], T | None] | None = None,
    ) -> tuple[T, bool]:
        """``(value, fetched_here)``: ``fetch()``'s value here or in the process holding the lock."""
        lock = self._lock_key(key)
        lock_ms = max(1, int(self.lock_seconds * 1000))
        # Long enough to outlive one holder that dies (its lock expires) and follow the next.
        deadline = time.monotonic() + 2 * self.lock_seconds
        while time.monotonic() < deadline:
            token = uuid.uuid4().hex
            got = self.shared.call(functools.partial(_take, lock, token, lock_ms), _DOWN)
            if got is _DOWN:
                break
            if got:
                return self._lead(lock, token, fetch, encode, recheck)
            holder = self.shared.call(lambda r: r.get(lock), _DOWN)
            if holder is _DOWN:
                break
            if holder is None:  # released between the two commands: try again
                continue
            answer = self._wait(lock, holder, min(deadline, time.monotonic() + self.lock_seconds))  # type: ignore[arg-type]
            if answer is _DOWN or answer == _FAILED:
                break
            if answer is not None:
                metrics.FLIGHT_JOINS.labels(scope="redis").inc()
                return decode(answer), False  # type: ignore[arg-type]
            # the holder vanished without an answer: one of the waiters takes the lock
        return fetch(), True

    def _lead(
        self,
        lock: str,
        token: str,
        fetch: Callable[[], T],
        encode: Callable[[T], str],
        recheck: Callable[[], T | None] | None,
    ) -> tuple[T, bool]:
        answer_key = f"{lock}:{token}"
        keep_ms = max(1000, int(self.lock_seconds * 1000))
        answer: str | bytes = _FAILED
        try:
            value = recheck() if recheck is not None else None  # a holder that finished just before us
            fetched = value is None
            if value is None:
                value = fetch()
            answer = encode(value)
            return value, fetched
        finally:
            # The answer first, then the lock: a waiter that sees the lock gone sees the answer too.
            self.shared.call(lambda r: r.set(answer_key, answer, px=keep_ms), None)
            self.shared.call(lambda r: r.eval(_RELEASE, 1, lock, token), None)

    def _wait(self, lock: str, holder: bytes, deadline: float) -> bytes | object | None:
        """The holder's answer, :data:`_DOWN`, or None when its lock went away without one."""
        answer_key = f"{lock}:{holder.decode()}"
        while time.monotonic() < deadline:
            time.sleep(self.poll_seconds)
            got = self.shared.call(lambda r: r.mget(answer_key, lock), _DOWN)
            if got is _DOWN:
                return _DOWN
            answer: bytes | None = got[0]  # type: ignore[index]
            current: bytes | None = got[1]  # type: ignore[index]
            if answer is not None:
                return answer
            if current != holder:
                return None
        return _DOWN  # waited the lock's whole life: ask ourselves
