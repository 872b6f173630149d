"""The lookup cache in Redis: every process pointing at one Redis pays once per number per TTL.

Keys are ``{prefix}:cache:{ns}:n:{phone}``, where ``ns`` names the API base URL and
consumer key (:func:`~nextcaller_ops.stores.redis.namespace`; never the secret),
so two accounts or two APIs never share answers.  A value is what the
in-process cache holds, as JSON (``{"phone": …, "records": [the API's records]}``),
with the same TTLs: ``ttl`` for a found record, ``miss_ttl`` for "no record".
A correction drops every number whose answer holds the profile, in every process
(``{prefix}:cache:{ns}:p:{id}`` lists them).

While Redis is down the process's own memory cache (the parent class) stands in,
so lookups go on; entries made then stay in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import metrics
from ..api.models import LookupResult
from ..stores.person import Person
from ..stores.redis import SharedRedis, namespace, shared_redis
from .memory import LookupCache, _dump, _load
from .shared_flight import SharedFlight

if TYPE_CHECKING:
    from ..config import Settings
    from ..credentials import Credentials

__all__ = ["RedisLookupCache", "SharedLookups", "shared_lookups", "forget_shared", "clear_shared"]

_DOWN = object()


class RedisLookupCache(LookupCache):
    def __init__(
        self,
        shared: SharedRedis,
        ns: str,
        *,
        ttl: float = 300.0,
        miss_ttl: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ):
        super().__init__(ttl=ttl, miss_ttl=miss_ttl, max_entries=max_entries, clock=clock)
        self.shared = shared
        self.ns = ns

    def _key(self, *parts: str) -> str:
        return self.shared.key("cache", self.ns, *parts)

    def get(self, phone: str) -> LookupResult | None:
        if not self.enabled:
            return None
        doc = self.shared.call(lambda r: r.get(self._key("n", phone)), _DOWN)
        if doc is _DOWN:
            return super().get(phone)
        with self._lock:
            if doc is None:
                self.misses += 1
                metrics.CACHE.labels(backend="redis", result="miss").inc()
                return None
            self.hits += 1
            metrics.CACHE.labels(backend="redis", result="hit").inc()
        return _load(doc)  # type: ignore[arg-type]

    def put(self, result: LookupResult) -> None:
        if not self.enabled:
            return
        seconds = self.ttl if result.found else self.miss_ttl
        stored = LookupResult(phone=result.phone, profiles=result.profiles)
        ms = max(1, int(seconds * 1000))

        def write(r) -> bool:
            pipe = r.pipeline(transaction=True)
            pipe.set(self._key("n", stored.phone), _dump(stored), px=ms)
            for profile in stored.profiles:
                if profile.id:
                    index = self._key("p", profile.id)
                    pipe.sadd(index, stored.phone)
                    pipe.pexpire(index, max(ms, int(self.ttl * 1000)))
            pipe.execute()
            return True

        if not self.shared.call(write, False):
            super().put(result)

    def invalidate(self, phone: str) -> None:
        super().invalidate(phone)
        self.shared.call(lambda r: r.delete(self._key("n", phone)), 0)

    def invalidate_profile(self, profile_id: str) -> list[str]:
        phones = set(super().invalidate_profile(profile_id))
        index = self._key("p", profile_id)

        def drop(r) -> list[str]:
            members = sorted(m.decode() for m in r.smembers(index))
            r.delete(index, *(self._key("n", p) for p in members))
            return members

        phones.update(self.shared.call(drop, []))
        return sorted(phones)

    def clear(self) -> int:
        count = super().clear()

        def drop_all(r) -> int:
            keys = list(r.scan_iter(match=self._key("*"), count=1000))
            for start in range(0, len(keys), 1000):
                r.delete(*keys[start : start + 1000])
            return sum(1 for k in keys if k.startswith(self._key("n", "").encode()))

        return max(count, self.shared.call(drop_all, 0))

    def __len__(self) -> int:
        def count(r) -> int:
            return sum(1 for _ in r.scan_iter(match=self._key("n", "*"), count=1000))

        return self.shared.call(count, 0) or super().__len__()

    def close(self) -> None:
        """The connection is the process's (shared by every cache and limit on this Redis)."""
        super().close()


@dataclass(frozen=True)
class SharedLookups:
    """What a client shares through Redis: the cache and single-flight, in one namespace."""

    cache: RedisLookupCache
    flight: SharedFlight

    def fetch(self, phone: str, fetch: Callable[[], LookupResult], *, refresh: bool) -> tuple[LookupResult, bool]:
        """``fetch()`` once across processes (and into the cache); ``(result, fetched_here)``."""

        def fetch_and_keep() -> LookupResult:
            result = fetch()
            self.cache.put(result)
            return result

        return self.flight.run(
            phone,
            fetch_and_keep,
            encode=_dump,
            decode=lambda raw: _load(raw.decode()),
            recheck=None if refresh else lambda: self.cache.get(phone),
        )


def shared_lookups(settings: Settings, credentials: Credentials) -> SharedLookups | None:
    """The Redis cache and single-flight for ``settings.redis_url`` (None without one)."""
    if not settings.redis_url:
        return None
    shared = shared_redis(settings.redis_url, settings.redis_prefix)
    ns = namespace(settings.api_root, credentials.consumer_key)
    cache = RedisLookupCache(
        shared, ns, ttl=settings.cache_ttl, miss_ttl=settings.miss_ttl, max_entries=settings.cache_max_entries
    )
    # The lock outlives one slow attempt; a holder that died is given up on after it.
    return SharedLookups(cache, SharedFlight(shared, ns, lock_seconds=settings.timeout + 5))


def _text(raw: object) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def forget_shared(shared: SharedRedis, person: Person, *, apply: bool = True) -> dict[str, object] | None:
    """Every key under the prefix holding ``person``, in every namespace (account, API): None when Redis is down.

    ``{"cache": n, "profile index": n, "single-flight": n, "answers": [LookupResult…]}``: cached
    answers whose key or JSON holds the person, profile-index sets naming one of their numbers
    or profile ids, single-flight locks and answers holding them.
    """

    def scan(r) -> dict[str, object]:
        answers: list[LookupResult] = []
        doomed: list[bytes] = []
        counts = {"cache": 0, "profile index": 0, "single-flight": 0}
        for key in r.scan_iter(match=shared.key("cache", "*"), count=1000):
            name = _text(key)
            if ":n:" in name:
                raw = r.get(key)
                if raw is not None and (person.mentions(name) or person.mentions(_text(raw))):
                    answers.append(_load(_text(raw)))
                    doomed.append(key)
                    counts["cache"] += 1
        ids = {p.id.casefold() for a in answers for p in a.profiles if p.id}
        for key in r.scan_iter(match=shared.key("cache", "*:p:*"), count=1000):
            name = _text(key)
            members = [_text(m) for m in r.smembers(key)] if r.type(key) == b"set" else []
            if name.rsplit(":", 1)[-1].casefold() in ids | person.words or any(person.mentions(m) for m in members):
                doomed.append(key)
                counts["profile index"] += 1
        for key in r.scan_iter(match=shared.key("flight", "*"), count=1000):
            raw = r.get(key) if r.type(key) == b"string" else None
            if person.mentions(_text(key)) or (raw is not None and person.mentions(_text(raw))):
                doomed.append(key)
                counts["single-flight"] += 1
        if apply:
            for start in range(0, len(doomed), 500):
                r.delete(*doomed[start : start + 500])
        return {**counts, "answers": answers}

    return shared.call(scan, None)


def clear_shared(shared: SharedRedis) -> int | None:
    """Delete every cached answer and profile index under the prefix (every namespace); None when Redis is down."""

    def drop_all(r) -> int:
        keys = list(r.scan_iter(match=shared.key("cache", "*"), count=1000))
        for start in range(0, len(keys), 1000):
            r.delete(*keys[start : start + 1000])
        return sum(1 for k in keys if ":n:" in _text(k))

    return shared.call(drop_all, None)


def count_shared(shared: SharedRedis) -> int | None:
    """How many cached answers live under the prefix (every namespace); None when Redis is down."""
    return shared.call(
        lambda r: sum(1 for k in r.scan_iter(match=shared.key("cache", "*"), count=1000) if ":n:" in _text(k)), None
    )
