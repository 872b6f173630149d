"""Forget one person: a number (or an email address) and the records it returned, from every store.

The one flow behind ``nextcaller-ops forget``, ``nextcaller_ops.forget()`` and the bot's
``/caller forget``: each surface only words the :class:`ForgetReport`.

What "every store" is: the audit log (SQLite or PostgreSQL), the lookup caches alive in
this process (memory and their SQLite file), the persistent cache file, Redis (cached
answers, the profile index, single-flight leftovers; every namespace under the prefix),
triage items and sightings, the correction outbox, the de-dup keys, the outgoing webhooks'
outbox (queued and sent events: with ``NEXTCALLER_OPS_WEBHOOK_PII=1`` a body holds the full
number, and a ``correction.delivered`` names the profile id either way).  The person is found
in any spelling (:class:`~nextcaller_ops.stores.person.Person`); the records the caches
hold for them widen the search to their profile ids, emails and other numbers.

Slack is not a store this flow can reach: a triage reply still showing the person is left
as a ``redact`` job the running bot performs (the reply becomes one line, "removed on
request"), and a waiting correction for them is cancelled for the bot to tell its agent.

The act is audited without the person: the audit row's phone is a keyed hash
(:func:`~nextcaller_ops.stores.at_rest.keyed_hash`), so :func:`was_forgotten` can answer
"was this number forgotten?" with the number in hand, and nobody can read it back.
Running it twice removes nothing the second time (and audits it again).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .api.models import LookupResult
from .api.phone import parse
from .api.queries import check_email, mask_email
from .redact import mask_phone
from .stores.at_rest import keyed_hash
from .stores.person import Person

if TYPE_CHECKING:
    from .config import Settings
    from .stores import Stores

__all__ = ["ForgetReport", "Target", "target_for", "forget", "was_forgotten", "STORE_NAMES"]

# The order counts are shown in (every surface the same).
STORE_NAMES = (
    "audit log",
    "lookup cache",
    "cache file",
    "Redis cache",
    "Redis profile index",
    "Redis single-flight",
    "triage items",
    "sightings",
    "outbox",
    "de-dup keys",
    "webhook outbox",
)


@dataclass(frozen=True)
class Target:
    """What was asked to be forgotten: ``kind`` phone | email, ``value`` normalised, ``shown`` masked."""

    kind: str
    value: str
    shown: str

    @property
    def person(self) -> Person:
        if self.kind == "phone":
            return Person(phones=frozenset({self.value}), exact=frozenset({keyed_hash(self.value)}))
        return Person(words=frozenset({self.value}))

    @property
    def hashed(self) -> str:
        """The keyed hash the forget record (and a hashed audit log) names the target by."""
        return keyed_hash(self.value)


@dataclass
class ForgetReport:
    """How many of the person's entries each store held (and, when ``applied``, no longer holds)."""

    target: Target
    counts: dict[str, int] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)  # stores that could not be searched (Redis down)
    applied: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        """One line per store, in :data:`STORE_NAMES` order: ``audit log: 3``."""
        shown = [f"{name}: {self.counts[name]}" for name in STORE_NAMES if name in self.counts]
        return shown + [f"{name}: not reachable" for name in self.unreachable]

    def summary(self) -> str:
        """Counts without the person, for the audit row (``audit log 3, outbox 1``)."""
        held = [f"{name} {self.counts[name]}" for name in STORE_NAMES if self.counts.get(name)]
        return ", ".join(held) or "nothing held"


def target_for(text: str) -> Target:
    """A phone number (any spelling, :func:`~nextcaller_ops.api.phone.parse`) or an email (case-folded).

    Raises :class:`~nextcaller_ops.errors.UsageError` for anything else, before touching a store.
    """
    if "@" in (text or ""):
        email = check_email(text).casefold()
        return Target("email", email, mask_email(email))
    number = parse(text).number
    return Target("phone", number, mask_phone(number))


def _widen(person: Person, answers: Iterable[LookupResult]) -> Person:
    """``person`` and the records their answers returned: those records' ids, emails and numbers."""
    phones: set[str] = set()
    words: set[str] = set()
    for answer in answers:
        if answer.phone.isdigit():
            phones.add(answer.phone)
        for profile in answer.profiles:
            if profile.id:
                words.add(profile.id.casefold())
            if profile.email:
                words.add(profile.email.casefold())
            for number in profile.phones:
                digits = "".join(ch for ch in str(getattr(number, "number", "")) if ch.isdigit())[-10:]
                if len(digits) == 10:
                    phones.add(digits)
    return person.widened(phones=phones, words=words)


def _cache_file(settings: Settings, data_dir: Path) -> Path | None:
    path = Path(settings.cache_path) if settings.cache_path else data_dir / "cache.sqlite3"
    return path if path.exists() else None


def _open_sqlite_stores(root: Path) -> list[tuple[str, object]]:
    """The embedded stores whose files exist (a forget creates none but the audit log)."""
    from .stores.sqlite import SqliteDedupeStore
    from .stores.sqlite_outbox import SqliteOutboxStore
    from .stores.sqlite_triage import SqliteTriageStore
    from .stores.sqlite_webhooks import SqliteWebhookStore

    opened: list[tuple[str, object]] = []
    for name, filename, factory in (
        ("outbox", "outbox.sqlite3", SqliteOutboxStore),
        ("dedupe", "dedupe.sqlite3", SqliteDedupeStore),
        ("triage", "triage.sqlite3", SqliteTriageStore),
        ("webhooks", "webhooks.sqlite3", SqliteWebhookStore),
    ):
        if (root / filename).exists():
            opened.append((name, factory(root / filename)))
    return opened


def forget(
    text: str,
    *,
    apply: bool = True,
    user_id: str | None = None,
    channel_id: str | None = None,
    settings: Settings | None = None,
    stores: Stores | None = None,
) -> ForgetReport:
    """Remove ``text``'s person from every store this process reaches (``apply=False``: count only).

    ``stores``: the bot's open stores (the CLI and the notebook open the configured ones and
    close them).  The forget is audited as ``user_id`` in ``channel_id`` (default: the OS user,
    ``cli``), by keyed hash only.
    """
    from .audit import os_user
    from .cache.memory import LookupCache, live_caches
    from .config import data_dir, load_settings
    from .stores import open_audit_store, open_stores

    target = target_for(text)
    settings = settings or load_settings()
    root = data_dir()
    database_url = settings.database_url or os.environ.get("NEXTCALLER_OPS_DATABASE_URL") or None
    report = ForgetReport(target, applied=apply)
    person = target.person

    # The caches first, without removing: their answers name the records to forget with the number.
    caches = list(live_caches())
    file_path = _cache_file(settings, root)
    file_cache: LookupCache | None = None
    if file_path is not None and not any(c.path == file_path for c in caches):
        file_cache = LookupCache(path=file_path)
    shared = None
    if settings.redis_url:
        from .stores.redis import shared_redis

        shared = shared_redis(settings.redis_url, settings.redis_prefix)
    try:
        answers: list[LookupResult] = []
        for cache in [*caches, *([file_cache] if file_cache else [])]:
            answers.extend(cache.forget(person, apply=False)[1])
        redis_seen = _redis(shared, person, apply=False) if shared is not None else None
        if redis_seen is not None:
            answers.extend(redis_seen["answers"])  # type: ignore[arg-type]
        person = _widen(person, answers)

        report.counts["lookup cache"] = sum(c.forget(person, apply=apply)[0] for c in caches if c is not file_cache)
        if file_cache is not None:
            report.counts["cache file"] = file_cache.forget(person, apply=apply)[0]
        if shared is not None:
            done = _redis(shared, person, apply=apply)
            if done is None:
                report.unreachable.append("Redis")
            else:
                for key, name in (
                    ("cache", "Redis cache"),
                    ("profile index", "Redis profile index"),
                    ("single-flight", "Redis single-flight"),
                ):
                    report.counts[name] = int(done[key])  # type: ignore[call-overload]
    finally:
        if file_cache is not None:
            file_cache.close()

    owned = stores is None
    opened: list[tuple[str, object]] = []
    audit = None
    if stores is None and database_url:
        stores = open_stores(root, database_url=database_url, migrate=False)  # no DDL outside the bot and `db migrate`
    try:
        if stores is not None:
            audit = stores.audit
            parts: list[tuple[str, object]] = [("outbox", stores.outbox), ("dedupe", stores.dedupe)]
            parts.append(("triage", stores.triage))
            if stores.webhooks is not None:
                parts.append(("webhooks", stores.webhooks))
        else:
            audit = open_audit_store(root)
            opened = _open_sqlite_stores(root)
            parts = opened
        report.counts["audit log"] = audit.forget(person, apply=apply)
        for name, store in parts:
            if name == "triage":
                items, sightings = store.forget(person, apply=apply)  # type: ignore[attr-defined]
                report.counts["triage items"], report.counts["sightings"] = items, sightings
            elif name == "outbox":
                report.counts["outbox"] = store.forget(person, apply=apply)  # type: ignore[attr-defined]
            elif name == "webhooks":
                report.counts["webhook outbox"] = store.forget(person, apply=apply)  # type: ignore[attr-defined]
            else:
                report.counts["de-dup keys"] = store.forget(person, apply=apply)  # type: ignore[attr-defined]
        if apply:
            audit.record(
                user_id=user_id or os_user(),
                channel_id=channel_id or "cli",
                action="forget",
                phone=target.hashed,
                outcome="forgotten",
                detail=report.summary(),
            )
    finally:
        for _, store in opened:
            store.close()  # type: ignore[attr-defined]
        if owned and stores is not None:
            stores.close()
        elif stores is None and audit is not None:
            audit.close()
    report.counts = {name: report.counts[name] for name in STORE_NAMES if name in report.counts}
    return report


def _redis(shared: object, person: Person, *, apply: bool) -> dict[str, object] | None:
    from .cache.redis import forget_shared

    return forget_shared(shared, person, apply=apply)  # type: ignore[arg-type]


def was_forgotten(text: str, *, settings: Settings | None = None, stores: Stores | None = None) -> list[float]:
    """When ``text``'s person was forgotten (epoch seconds, oldest first); empty when never."""
    from .config import data_dir, load_settings
    from .stores import open_audit_store

    target = target_for(text)
    settings = settings or load_settings()
    if stores is not None:
        entries = stores.audit.entries(phone=target.hashed)
    else:
        root = data_dir()
        database_url = settings.database_url or os.environ.get("NEXTCALLER_OPS_DATABASE_URL") or None
        audit = open_audit_store(root, database_url=database_url)
        try:
            entries = audit.entries(phone=target.hashed)
        finally:
            audit.close()
    return [e["ts"] for e in entries if e["action"] == "forget"]
