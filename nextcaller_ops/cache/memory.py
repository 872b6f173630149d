"""A TTL cache for lookups, in memory, optionally backed by SQLite.

Found records live ``ttl`` seconds, "no record" answers ``miss_ttl`` seconds.
A correction invalidates every number whose cached result holds that profile
id.  The persistent file (opt-in) is created with mode 0600: it holds PII.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from .. import metrics
from ..api.models import LookupResult, Profile
from ..stores.person import Person
from ..stores.private_db import open_private_db

__all__ = ["LookupCache", "live_caches"]

# Every cache this process holds (the CLI's, a notebook's clients', the bot's): a forget reaches them all.
_LIVE: weakref.WeakSet[LookupCache] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def live_caches() -> list[LookupCache]:
    """The lookup caches alive in this process."""
    with _LIVE_LOCK:
        return list(_LIVE)


def _dump(result: LookupResult) -> str:
    return json.dumps({"phone": result.phone, "records": [p.to_api() for p in result.profiles]})


def _load(text: str) -> LookupResult:
    doc = json.loads(text)
    return LookupResult(phone=doc["phone"], profiles=tuple(Profile.from_api(r) for r in doc["records"]))


class LookupCache:
    def __init__(
        self,
        ttl: float = 300.0,
        miss_ttl: float = 30.0,
        max_entries: int = 10_000,
        path: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, LookupResult]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.path = Path(path) if path else None
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            self._open_db()
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _open_db(self) -> None:
        assert self.path is not None
        self._db = open_private_db(self.path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS lookups (phone TEXT PRIMARY KEY, expires REAL NOT NULL, doc TEXT NOT NULL)"
        )

    @property
    def persistent(self) -> bool:
        """Backed by an open SQLite file (``path``)."""
        return self._db is not None

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, phone: str) -> LookupResult | None:
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(phone)
            if entry and entry[0] > now:
                self._entries.move_to_end(phone)
                self.hits += 1
                metrics.CACHE.labels(backend="memory", result="hit").inc()
                return entry[1]
            if entry:
                del self._entries[phone]
            if self._db is not None:
                row = self._db.execute("SELECT expires, doc FROM lookups WHERE phone=?", (phone,)).fetchone()
                if row and row[0] > now:
                    result = _load(row[1])
                    self._remember(phone, row[0], result)
                    self.hits += 1
                    metrics.CACHE.labels(backend="memory", result="hit").inc()
                    return result
            self.misses += 1
            metrics.CACHE.labels(backend="memory", result="miss").inc()
            return None

    def put(self, result: LookupResult) -> None:
        if not self.enabled:
            return
        expires = self._clock() + (self.ttl if result.found else self.miss_ttl)
        stored = LookupResult(phone=result.phone, profiles=result.profiles)
        with self._lock:
            self._remember(result.phone, expires, stored)
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO lookups VALUES (?, ?, ?)", (result.phone, expires, _dump(stored))
                )

    def _remember(self, phone: str, expires: float, result: LookupResult) -> None:
        self._entries[phone] = (expires, result)
        self._entries.move_to_end(phone)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def find_profile(self, profile_id: str) -> Profile | None:
        """A cached, unexpired record with this id (held in memory), or None."""
        now = self._clock()
        with self._lock:
            for expires, result in reversed(self._entries.values()):
                if expires > now:
                    for profile in result.profiles:
                        if profile.id == profile_id:
                            return profile
        return None

    def invalidate(self, phone: str) -> None:
        with self._lock:
            self._entries.pop(phone, None)
            if self._db is not None:
                self._db.execute("DELETE FROM lookups WHERE phone=?", (phone,))

    def invalidate_profile(self, profile_id: str) -> list[str]:
        """Forget every number whose cached result holds ``profile_id``."""
        with self._lock:
            phones = [p for p, (_, r) in self._entries.items() if any(x.id == profile_id for x in r.profiles)]
            for phone in phones:
                del self._entries[phone]
            if self._db is not None:
                # The id is 30 hex characters (checked by the caller), safe inside LIKE.
                rows = self._db.execute(
                    "SELECT phone FROM lookups WHERE doc LIKE ?", (f'%"id": "{profile_id}"%',)
                ).fetchall()
                for (phone,) in rows:
                    phones.append(phone)
                self._db.execute("DELETE FROM lookups WHERE doc LIKE ?", (f'%"id": "{profile_id}"%',))
        return phones

    def forget(self, person: Person, *, apply: bool = True) -> tuple[int, list[LookupResult]]:
        """Entries whose key or answer holds ``person`` (expired or not), removed: (how many, their answers).

        The answers let the caller widen ``person`` to the records the number returned.
        """
        found: dict[str, LookupResult] = {}
        with self._lock:
            for key, (_, result) in list(self._entries.items()):
                if person.mentions(key) or person.mentions(_dump(result)):
                    found[key] = result
                    if apply:
                        del self._entries[key]
            if self._db is not None:
                rows = self._db.execute("SELECT phone, doc FROM lookups").fetchall()
                for key, doc in rows:
                    if person.mentions(key) or person.mentions(doc):
                        found.setdefault(key, _load(doc))
                        if apply:
                            self._db.execute("DELETE FROM lookups WHERE phone = ?", (key,))
        return len(found), list(found.values())

    def purge_expired(self) -> int:
        """Delete the persistent file's expired rows (the running bot's retention; readers never do)."""
        with self._lock:
            if self._db is None:
                return 0
            return self._db.execute("DELETE FROM lookups WHERE expires <= ?", (self._clock(),)).rowcount

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            if self._db is not None:
                count = max(count, self._db.execute("SELECT COUNT(*) FROM lookups").fetchone()[0])
                self._db.execute("DELETE FROM lookups")
        return count

    def __len__(self) -> int:
        with self._lock:
            if self._db is not None:
                return self._db.execute("SELECT COUNT(*) FROM lookups WHERE expires > ?", (self._clock(),)).fetchone()[
                    0
                ]
            now = self._clock()
            return sum(1 for exp, _ in self._entries.values() if exp > now)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
