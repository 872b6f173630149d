"""Limits counted in Redis, so they hold across every process: a sliding window per key.

>>> window = SlidingWindow(shared_redis(url), "lookups", limit=30, window=60)   # doctest: +SKIP
>>> window.hit("U123")        # 0.0: go ahead (and counted); > 0: seconds to wait; None: Redis is down

One Lua script does the whole check-and-count atomically on the server, with the
server's clock (processes on several machines agree on what "the last minute"
is).  Keys are ``{prefix}:limit:{name}:{key}`` and expire with the window.
The API pacing token bucket (issue #16) belongs beside this class, on the same
:class:`~nextcaller_ops.shared_redis.SharedRedis` and key scheme.
"""

from __future__ import annotations

import uuid
from typing import Any

from .shared_redis import SharedRedis

__all__ = ["SlidingWindow"]

# KEYS[1] the window's sorted set; ARGV limit, window in ms, a unique member.  Returns the
# milliseconds to wait (0: allowed and counted).  Entries at least a window old fall out,
# as in the in-process limiter (bot.policy.RateLimiter).
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, window - (now - tonumber(oldest[2])))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class SlidingWindow:
    """At most ``limit`` hits per key in any ``window`` seconds, across every process on this Redis."""

    def __init__(self, shared: SharedRedis, name: str, *, limit: int, window: float):
        self.shared = shared
        self.name = name
        self.limit = limit
        self.window = window
        self._script: Any = None

    def hit(self, key: str) -> float | None:
        """0.0 when this hit may go ahead (it is counted); else seconds until it may; None when Redis is down."""
        if self.limit <= 0:
            return 0.0
        redis_key = self.shared.key("limit", self.name, key)
        member = uuid.uuid4().hex

        def run(r: Any) -> float:
            if self._script is None:
                self._script = r.register_script(_SLIDING_WINDOW)  # EVALSHA, loaded on first use
            wait_ms = self._script(keys=[redis_key], args=[self.limit, int(self.window * 1000), member])
            return int(wait_ms) / 1000.0

        return self.shared.call(run, None)

    def __call__(self, key: str) -> float | None:
        return self.hit(key)
