"""Limits counted in Redis, so they hold across every process: a sliding window per key.

>>> window = SlidingWindow(shared_redis(url), "lookups", limit=30, window=60)   # doctest: +SKIP
>>> window.hit("U123")        # 0.0: go ahead (and counted); > 0: seconds to wait; None: Redis is down

One Lua script does the whole check-and-count atomically on the server, with the
server's clock (processes on several machines agree on what "the last minute"
is).  Keys are ``{prefix}:limit:{name}:{key}`` and expire with the window.

:class:`RedisBucket` is the API pacing's token bucket (:mod:`.pacing`) in Redis:
``{prefix}:pace:{ns}``, a hash changed only by one script, kept an hour after its last use.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..stores.redis import SharedRedis
from .bucket import (
    COOLDOWN,
    DECREASE,
    HEADROOM,
    MIN_FACTOR,
    MIN_RATE,
    RECOVERY,
    SLOW_START_BURST,
    SLOW_START_DOUBLING,
    SLOW_START_IDLE,
    SLOW_START_RATE,
    SLOW_START_SPAN,
)

__all__ = ["SlidingWindow", "RedisBucket"]

# KEYS[1] the window's sorted set; ARGV limit, window in ms, a unique member.  Returns the
# milliseconds to wait (0: allowed and counted).  Entries at least a window old fall out,
# as in the in-process limiter (rate.window.RateLimiter).
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


# KEYS[1] the bucket's hash.  ARGV: op (take | learn | refused | state), now in seconds (0: the
# server's clock, as in production; tests pass a fake one), the hash's TTL in ms, max_rps
# (0: none), then the op's three numbers.  Returns {wait, rate, limit, source, factor} as strings
# (Redis would truncate Lua numbers to integers).  pacing.LocalBucket is this script in Python.
_TOKEN_BUCKET = f"""
local op = ARGV[1]
local now = tonumber(ARGV[2])
if now == 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local max_rps, a, b, c = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'tat', 'limit', 'source', 'factor', 'factor_at', 'cut_at', 'slow', 'slow_at', 'slow_n')
local tat, limit, source = tonumber(s[1]) or 0, tonumber(s[2]) or 0, s[3] or ''
local factor, factor_at, cut_at = tonumber(s[4]) or 1, tonumber(s[5]), tonumber(s[6])
local slow, slow_at, slow_n = s[7] or '', tonumber(s[8]) or 0, tonumber(s[9]) or 0
local function slow_rate(elapsed)
  return {SLOW_START_RATE} * 2 ^ (math.max(0, elapsed) / {SLOW_START_DOUBLING})
end
local function slow_sent(elapsed)
  local scale = {SLOW_START_RATE} * {SLOW_START_DOUBLING} / math.log(2)
  local since = math.max(0, elapsed - 1)
  return {SLOW_START_BURST} + scale * (2 ^ (elapsed / {SLOW_START_DOUBLING}) - 2 ^ (since / {SLOW_START_DOUBLING}))
end
local function slow_spent()
  if now - slow_at <= 1 then return slow_n end
  return math.min(slow_n, slow_sent(now - slow_at))
end
local function recover()
  if factor_at then factor = math.min(1, factor + {RECOVERY} * math.max(0, now - factor_at)) end
  factor_at = now
  if source == 'refusals' and factor >= 1 then limit, source = 0, '' end
end
local function rate()
  local ceiling = 0
  if limit > 0 then
    ceiling = limit
    if source == 'api' then ceiling = limit * {HEADROOM} end
  end
  if max_rps > 0 and (ceiling == 0 or max_rps < ceiling) then ceiling = max_rps end
  if ceiling == 0 then return 0 end
  return math.max({MIN_RATE}, ceiling * factor)
end
local wait, r, took = 0, 0, 0
recover()
if op == 'take' then
  if a > 0 and source ~= 'api' then limit, source = a, 'api' end
  r = rate()
  if r == 0 and max_rps <= 0 then
    if slow == '' then
      slow, slow_at, tat, slow_n = 'on', now, now, 0
    elseif slow == 'on' and (now - tat > {SLOW_START_IDLE} or now - slow_at >= {SLOW_START_SPAN}) then
      slow = 'done'
    end
    if slow == 'on' then
      local start = math.max(now, tat - ({SLOW_START_BURST} - 1) / slow_rate(now - slow_at) - 1e-9)
      took = slow_rate(start - slow_at)
      tat = math.max(tat, start) + 1 / took
      slow_n = slow_n + 1
      wait = start - now
    end
  elseif r > 0 then
    if slow == 'on' then slow = 'done' end
    local start = math.max(tat, now)
    tat = start + 1 / r
    wait = start - now
  end
elseif op == 'learn' then
  if a > 0 then
    limit, source = a, 'api'
    local r0 = rate()
    if slow == 'on' then
      slow = 'done'
      tat = now + slow_spent() / r0
    end
    tat = math.max(math.max(tat, now) + math.max(0, b) / r0, now + math.max(0, c) / r0)
  end
elseif op == 'refused' then
  local was_slow = slow == 'on'
  if was_slow then
    slow = 'done'
    tat = math.min(tat, now)
    b = math.max(b, slow_spent())
  end
  if a > 0 then
    limit, source = a, 'api'
  elseif limit <= 0 and max_rps <= 0 then
    limit, source = math.max(1, b), 'refusals'
  end
  if was_slow and a > 0 then
    tat = math.max(tat, now + limit / rate())
    cut_at = now
  elseif not cut_at or now - cut_at >= {COOLDOWN} then
    factor = math.max({MIN_FACTOR}, factor * {DECREASE})
    cut_at = now
  end
end
r = rate()
if op == 'take' and took > 0 then r = took end
local fields = {{'tat', tostring(tat), 'limit', tostring(limit), 'source', source,
  'factor', tostring(factor), 'factor_at', tostring(factor_at), 'slow', slow, 'slow_at', tostring(slow_at),
  'slow_n', tostring(slow_n)}}
if cut_at then
  table.insert(fields, 'cut_at')
  table.insert(fields, tostring(cut_at))
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {{tostring(wait), tostring(r), tostring(limit), source, tostring(factor)}}
"""

BUCKET_TTL = 3600.0  # seconds a bucket (and the limit it learned) outlives its last use


class RedisBucket:
    """:class:`~nextcaller_ops.rate.bucket.LocalBucket` kept in Redis: one budget for every process using the key.

    Each method runs the one script (atomic on the server); each returns None
    while Redis is down, and the pacer uses its own process's bucket meanwhile.
    """

    def __init__(self, shared: SharedRedis, ns: str, *, ttl: float = BUCKET_TTL):
        self.shared = shared
        self.key = shared.key("pace", ns)
        self.ttl_ms = max(1000, int(ttl * 1000))
        self._script: Any = None

    def _run(self, op: str, now: float, max_rps: float, *numbers: float) -> list[str] | None:
        a, b, c = (*numbers, 0.0, 0.0, 0.0)[:3]

        def run(r: Any) -> list[str]:
            if self._script is None:
                self._script = r.register_script(_TOKEN_BUCKET)  # EVALSHA, loaded on first use
            args = [op, repr(now), self.ttl_ms, repr(max_rps), repr(a), repr(b), repr(c)]
            reply = self._script(keys=[self.key], args=args)
            return [v.decode() if isinstance(v, bytes) else str(v) for v in reply]

        return self.shared.call(run, None)

    def take(self, now: float, max_rps: float, hint: float) -> tuple[float, float] | None:
        reply = self._run("take", now, max_rps, hint)
        return None if reply is None else (float(reply[0]), float(reply[1]))

    def learn(self, now: float, max_rps: float, limit: float, here: float, api: float) -> bool | None:
        return None if self._run("learn", now, max_rps, limit, here, api) is None else True

    def refused(self, now: float, max_rps: float, limit: float, estimate: float) -> bool | None:
        return None if self._run("refused", now, max_rps, limit, estimate) is None else True

    def state(self, now: float, max_rps: float) -> tuple[float, float, str, float] | None:
        reply = self._run("state", now, max_rps)
        return None if reply is None else (float(reply[1]), float(reply[2]), reply[3], float(reply[4]))
