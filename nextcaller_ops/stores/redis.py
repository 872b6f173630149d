"""One Redis shared by many processes (``NEXTCALLER_OPS_REDIS_URL``): connection, key names, and "down".

>>> shared = shared_redis("redis://127.0.0.1:6379/0")          # doctest: +SKIP
>>> shared.key("cache", namespace("https://api.nextcaller.com", "KEY"), "2125558383")
'nextcaller-ops:cache:5d1c…:2125558383'
>>> shared.call(lambda r: r.get("x"), default=None)             # None while Redis is down

What uses it: the lookup cache (:mod:`.redis_cache`), cross-process single-flight
(:mod:`.shared_flight`), the bot's per-user limit and the API pacing
(:mod:`.shared_limits`).  Each keeps working without Redis; this module decides
how: every command has a short socket timeout and no retries, and a failure marks
Redis down for a few seconds, during which :meth:`SharedRedis.call` answers its
``default`` at once instead of waiting again.  The outage is logged once (and
its end), and ``status`` reports it (:func:`check`).  One :class:`SharedRedis`
per URL and prefix per process (:func:`shared_redis`), so the whole process
agrees on whether Redis is up.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .. import metrics
from ..errors import MissingExtraError, UsageError

__all__ = ["SharedRedis", "shared_redis", "namespace", "check", "SOCKET_TIMEOUT", "DOWN_SECONDS"]

log = logging.getLogger("nextcaller_ops.redis")

T = TypeVar("T")

SOCKET_TIMEOUT = 0.5  # seconds for connecting and for each reply: a dead Redis never holds a request up
DOWN_SECONDS = 5.0  # after a failure, Redis is left alone this long before it is tried again


def namespace(*parts: str) -> str:
    """A short stable name for ``parts`` (e.g. the API base URL and consumer key) that shows none of them."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


class SharedRedis:
    """A redis-py client with short timeouts, the process's key prefix, and a memory of being down."""

    def __init__(self, url: str, prefix: str = "nextcaller-ops", *, timeout: float = SOCKET_TIMEOUT):
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise MissingExtraError(
                "shared",
                "Redis (NEXTCALLER_OPS_REDIS_URL is set)",
                missing="redis",
                otherwise="unset NEXTCALLER_OPS_REDIS_URL to keep the cache in each process",
            ) from None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise UsageError(  # never echo the URL: it may carry a password
                "NEXTCALLER_OPS_REDIS_URL is not a redis:// URL", hint="set it to redis://HOST:PORT/N, or unset it"
            )
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.prefix = prefix.rstrip(":") or "nextcaller-ops"
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # one try: a failure marks Redis down instead
            health_check_interval=30,
        )
        _register_password(self.client)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self.down_since: float | None = None  # wall-clock time of the outage's first failure
        self.last_error: str | None = None

    def key(self, *parts: str) -> str:
        """``prefix:part:part…``: every key this package writes lives under the prefix."""
        return ":".join((self.prefix, *parts))

    @property
    def available(self) -> bool:
        """False while Redis is marked down (it is tried again after :data:`DOWN_SECONDS`)."""
        return time.monotonic() >= self._down_until

    def call(self, fn: Callable[[Any], T], default: T) -> T:
        """``fn(client)``, or ``default`` when Redis is down or fails now (which marks it down)."""
        if not self.available:
            return default
        try:
            value = fn(self.client)
        except self._errors as exc:
            self._mark_down(exc)
            return default
        if self.down_since is not None:
            with self._lock:
                if self.down_since is not None:
                    self.down_since = None
                    log.warning("Redis is back: shared cache and limits are in use again")
        return value

    def _mark_down(self, exc: BaseException) -> None:
        metrics.STORE_ERRORS.labels(store="redis").inc()
        with self._lock:
            self._down_until = time.monotonic() + DOWN_SECONDS
            self.last_error = type(exc).__name__
            if self.down_since is None:
                self.down_since = time.time()
                log.warning(
                    "Redis unavailable (%s): lookups go to the API and limits are counted in this process "
                    "until it is back",
                    self.last_error,
                )

    def close(self) -> None:
        self.client.close()


def _register_password(client: Any) -> None:
    from ..redact import register_secret

    password = client.connection_pool.connection_kwargs.get("password")
    if password:
        register_secret(str(password))


_registry: dict[tuple[str, str], SharedRedis] = {}
_registry_lock = threading.Lock()


def shared_redis(url: str, prefix: str = "nextcaller-ops") -> SharedRedis:
    """The process's :class:`SharedRedis` for ``url`` and ``prefix`` (made on first use)."""
    with _registry_lock:
        shared = _registry.get((url, prefix))
        if shared is None:
            shared = _registry[(url, prefix)] = SharedRedis(url, prefix)
        return shared


def check(url: str, prefix: str = "nextcaller-ops") -> dict[str, Any]:
    """For ``status``: whether Redis answers (one PING, short timeout), its version, our key count.  Never raises."""
    try:
        shared = SharedRedis(url, prefix)
    except UsageError as exc:
        return {"ok": False, "error": exc.message}
    try:
        started = time.perf_counter()
        shared.client.ping()
        latency = round((time.perf_counter() - started) * 1000, 1)
        version = shared.client.info("server").get("redis_version")
        keys = sum(1 for _ in shared.client.scan_iter(match=shared.key("*"), count=1000))
    except shared._errors as exc:
        return {"ok": False, "error": f"not reachable ({type(exc).__name__})"}
    finally:
        shared.close()
    return {"ok": True, "version": version, "latency_ms": latency, "keys": keys, "prefix": shared.prefix}
