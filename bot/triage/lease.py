"""Holding a triage item's lease while it is worked on: renewed, so slow lookups are not a dead worker.

A worker holds an item under a lease (``item.lease_id``, drawn by the store).  Lookups on a slow
API can outlast it (10 s timeouts, retries, five numbers), and an item whose lease ran out is taken
over by another worker.  :class:`Holding` renews it between numbers (:meth:`Holding.renew`, on the
triage clock) and from a thread of its own every third of the lease while the work runs (a single
lookup may be longer than that).  Once a renewal finds the lease taken over, :attr:`Holding.lost`
is set and the work stops; the store refuses that worker's writes anyway (they are fenced on
``lease_id``), so the new holder's reply is the only one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from nextcaller_ops.stores import TriageItem, TriageStore

__all__ = ["Holding"]

log = logging.getLogger("bot.triage")


class Holding:
    """``with Holding(store, item, lease_seconds, clock) as held: … held.renew() … held.lost``."""

    def __init__(self, store: TriageStore, item: TriageItem, lease_seconds: float, clock: Callable[[], float]):
        self.store = store
        self.item = item
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._lost = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def renew(self) -> bool:
        """Extend the lease now; False once another worker holds the item (then nothing more is written)."""
        if self._lost.is_set():
            return False
        try:
            kept = self.store.renew(self.item, now=self._clock(), lease_seconds=self.lease_seconds)
        except Exception as exc:  # the store is briefly unreachable: carry on, the writes are fenced anyway
            log.warning(
                "triage: could not renew the lease of an item in %s (%s)", self.item.channel_id, type(exc).__name__
            )
            return True
        if not kept:
            self._lost.set()
            log.warning(
                "triage: an item in %s was taken over by another worker; leaving it to them", self.item.channel_id
            )
        return kept

    def _keep(self) -> None:
        while not self._done.wait(self.lease_seconds / 3):
            if not self.renew():
                return

    def __enter__(self) -> Holding:
        self._thread = threading.Thread(target=self._keep, name="nextcaller-triage-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._done.set()
