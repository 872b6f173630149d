"""How long each store keeps what it holds, and the one place that enforces it: the running bot.

- audit log entries: ``NEXTCALLER_OPS_AUDIT_RETENTION_DAYS`` (default 90 days);
- corrections delivered or refused (the outbox): ``NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS`` (30 days);
- triage items (the cards they hold) and sightings: ``NEXTCALLER_OPS_TRIAGE_RETENTION_DAYS`` (30 days);
- Slack de-duplication keys: their TTL (``nextcaller_ops.stores.DEDUPE_TTL_SECONDS``, a day);
- the lookup cache's SQLite file (``NEXTCALLER_CACHE_PATH``, opt-in): each entry after its TTL
  (``cache_ttl``, 5 minutes; "no record" ``miss_ttl``); Redis expires its own keys.

``0`` keeps that store's rows for ever.  A correction still waiting to be delivered is
never purged, however old: nothing an agent submitted is lost.

:class:`Housekeeper` runs :func:`purge_all` in each bot process once at start and then
hourly (every process may: each purge is one idempotent DELETE).  Nothing else deletes:
opening a store, reading the audit log and the CLI's and notebooks' lookups never do, so
an analyst's own ``NEXTCALLER_OPS_AUDIT_RETENTION_DAYS=7`` cannot empty the team's log;
``nextcaller-ops audit purge --older-than 90d`` is the explicit way outside the bot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nextcaller_ops.cache.memory import live_caches
from nextcaller_ops.config import env_number
from nextcaller_ops.errors import UsageError
from nextcaller_ops.stores import Stores

__all__ = ["Retention", "Housekeeper", "purge_all", "SETTINGS", "HOUSEKEEPING_SECONDS"]

log = logging.getLogger("bot.retention")

DAY = 86400.0
HOUSEKEEPING_SECONDS = 3600.0

# Retention's field -> (its environment variable, its default in days).
SETTINGS: dict[str, tuple[str, int]] = {
    "audit_days": ("NEXTCALLER_OPS_AUDIT_RETENTION_DAYS", 90),
    "outbox_days": ("NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS", 30),
    "triage_days": ("NEXTCALLER_OPS_TRIAGE_RETENTION_DAYS", 30),
}


@dataclass(frozen=True)
class Retention:
    """Days each store keeps its rows (0: for ever)."""

    audit_days: int = SETTINGS["audit_days"][1]
    outbox_days: int = SETTINGS["outbox_days"][1]
    triage_days: int = SETTINGS["triage_days"][1]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Retention:
        """Each setting from ``env``; one that is not a whole number of days, or is negative, is a usage error."""
        days: dict[str, int] = {}
        for attr, (name, default) in SETTINGS.items():
            value = env_number(env, name, default)
            if value < 0:
                raise UsageError(
                    f"{name}={value} is negative", hint=f"set {name} to a number of days (0 keeps everything)"
                )
            days[attr] = value
        return cls(**days)


def _cut_off(days: int, now: float) -> float | None:
    return now - days * DAY if days > 0 else None


def purge_all(stores: Stores, retention: Retention, now: float) -> dict[str, int]:
    """Purge every store by its retention, as of ``now``; how many rows each lost.

    A store that fails (PostgreSQL away for a moment) is logged and skipped: the others
    are still purged, and the next round tries it again.
    """
    jobs: dict[str, Callable[[], int]] = {"dedupe": stores.dedupe.purge}  # by its TTL, on its own clock
    # the lookup cache's persistent file (NEXTCALLER_CACHE_PATH), by each entry's TTL on the cache's clock:
    # a reader skips expired rows, and only here are they deleted
    files = [cache for cache in live_caches() if cache.persistent]
    if files:
        jobs["cache file"] = lambda: sum(cache.purge_expired() for cache in files)
    if (before := _cut_off(retention.audit_days, now)) is not None:
        jobs["audit"] = lambda: stores.audit.purge(before)
    if (outbox_before := _cut_off(retention.outbox_days, now)) is not None:
        jobs["outbox"] = lambda: stores.outbox.purge(outbox_before)
    if (triage_before := _cut_off(retention.triage_days, now)) is not None:
        jobs["triage"] = lambda: stores.triage.purge(triage_before)
    purged: dict[str, int] = {}
    for store, purge in jobs.items():
        try:
            purged[store] = purge()
        except Exception as exc:
            log.warning(
                "retention: could not purge the %s store (%s); trying again next round", store, type(exc).__name__
            )
    if any(purged.values()):
        log.info("retention: purged %s", ", ".join(f"{n} {store}" for store, n in purged.items() if n))
    return purged


class Housekeeper:
    """A thread of the bot's own: :func:`purge_all` at start, then every ``every`` seconds until stopped.

    Its own thread (not the triage worker's) so that a bot restarted more often than
    hourly still purges, and slow lookups never delay it.
    """

    def __init__(
        self,
        stores: Stores,
        retention: Retention,
        *,
        every: float = HOUSEKEEPING_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.stores = stores
        self.retention = retention
        self.every = every
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> dict[str, int]:
        return purge_all(self.stores, self.retention, self._clock())

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="nextcaller-retention", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # purge_all logs each store's failure; this is the last line of defence
                log.exception("retention: unexpected error")
            self._stop.wait(self.every)

    def stop(self) -> None:
        """Stop after the purge in progress, if any (the stores are closed after this)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
