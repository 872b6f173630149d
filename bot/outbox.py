"""Delivering corrections from the durable outbox: nothing an agent submitted is lost.

Every correction is written to an :class:`~nextcaller_ops.stores.OutboxStore`
*before* any attempt to deliver it.  Delivery is tried at once; if the API is
down (unreachable, timing out, 5xx, rate limited, or refusing our key) the row
stays ``pending`` and a background thread retries it with back-off until it is
delivered — also after the bot restarts, even after a ``kill -9`` mid-delivery
(a row whose lease ran out is taken over).

Exactly once: each row has an idempotency key sent with the POST, and a
submission carries a ``dedupe_key`` (Slack's view id) so a repeated delivery
of the same modal submission is one row, not two.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.stores import Correction, OutboxStore
from nextcaller_ops.stores.base import DELIVERED, PENDING, REJECTED
from nextcaller_ops.stores.person import CANCELLED

__all__ = ["Outbox", "Correction", "CANCELLED", "DELIVERED", "PENDING", "REJECTED", "RETRYABLE"]

log = logging.getLogger("bot.outbox")

# A claimed row is leased for this long and the lease renewed while the delivery runs, so
# a row whose process died (crash, kill -9) is taken over by another within a minute.
LEASE_SECONDS = 30.0
MAX_BACKOFF = 60.0  # an outage of any length is retried at least once a minute

# Failures worth waiting out; anything else from the API is a final refusal.
RETRYABLE = (
    errors.TransportError,
    errors.ServerError,
    errors.RateLimitError,
    errors.AuthError,
    errors.BillingError,
    errors.ExpiredTrialError,
    errors.BadResponseError,
)


Deliver = Callable[[Correction], None]  # raises NextCallerError on failure
Notify = Callable[[Correction, str], None]  # tells the agent what happened


class Outbox:
    """Attempts, retries with back-off, tells the agent how it ended; the rows live in ``store``."""

    def __init__(
        self,
        store: OutboxStore,
        deliver: Deliver,
        notify: Notify | None = None,
        *,
        retry_seconds: float = 5.0,
        lease_seconds: float = LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.lease_seconds = lease_seconds
        self._deliver = deliver
        self._notify = notify or (lambda c, outcome: None)
        self.retry_seconds = retry_seconds
        self._clock = clock
        recovered = store.recover()
        if recovered:
            log.warning("outbox: %d correction(s) were mid-delivery when the bot stopped; retrying them", recovered)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self._idle = threading.Condition()
        self._closed = False

    # -- the store's side ---------------------------------------------------------------
    def get(self, row_id: int) -> Correction | None:
        return self.store.get(row_id)

    def counts(self) -> dict[str, int]:
        return self.store.counts()

    def submit(
        self,
        profile_id: str,
        body: dict[str, Any],
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Correction, bool]:
        """Store the correction durably; returns (row, created). A repeated dedupe_key is not stored twice.

        The row is not due for the background workers (of any process) until the
        first back-off has passed: the submitter's own attempt (``attempt(row.id)``)
        comes first, so it can tell the agent "sent" rather than "queued".
        """
        now = self._clock()
        return self.store.submit(
            profile_id,
            body,
            now=now,
            user_id=user_id,
            channel_id=channel_id,
            dedupe_key=dedupe_key,
            due=now + self.retry_seconds,
        )

    def _finish(self, row: Correction, status: str, error: str = "") -> None:
        now = self._clock()
        backoff = min(MAX_BACKOFF, self.retry_seconds * (2 ** max(0, row.attempts - 1)))
        self.store.finish(row, status, now=now, error=error, next_attempt=now + backoff)

    def attempt(self, row_id: int | None = None) -> tuple[Correction, str] | None:
        """Deliver one row (the given one, or the next due); returns (row, outcome) or None."""
        with self._idle:
            if self._closed:
                return None
            self._in_flight += 1
        try:
            return self._attempt(row_id)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _attempt(self, row_id: int | None) -> tuple[Correction, str] | None:
        row = self.store.claim(row_id, now=self._clock(), lease_seconds=self.lease_seconds)
        if row is None:
            return None
        delivered = threading.Event()
        threading.Thread(target=self._keep_lease, args=(row, delivered), name="nextcaller-lease", daemon=True).start()
        try:
            self._deliver(row)
        except RETRYABLE as exc:
            self._finish(row, PENDING, str(exc))
            log.warning(
                "correction #%d not delivered yet (attempt %d): %s",
                row.id,
                row.attempts,
                type(exc).__name__ + (f" [{exc.code}]" if exc.code else ""),
            )
            outcome = PENDING
        except errors.NextCallerError as exc:
            self._finish(row, REJECTED, str(exc))
            log.warning("correction #%d refused by the API: %s", row.id, exc)
            outcome = REJECTED
        except Exception as exc:  # a bug must not lose the row: keep it pending
            self._finish(row, PENDING, f"{type(exc).__name__}")
            log.exception("correction #%d: unexpected error while delivering", row.id)
            outcome = PENDING
        else:
            self._finish(row, DELIVERED)
            log.info("correction #%d delivered to profile %s…", row.id, row.profile_id[:6])
            outcome = DELIVERED
        finally:
            delivered.set()
        final = self.get(row.id) or row
        return final, outcome

    def _keep_lease(self, row: Correction, done: threading.Event) -> None:
        """Renew ``row``'s lease while its delivery runs (a slow API is not a dead worker)."""
        while not done.wait(self.lease_seconds / 3):
            try:
                if not self.store.renew(row, now=self._clock(), lease_seconds=self.lease_seconds):
                    log.warning("correction #%d: the lease was taken over by another worker", row.id)
                    return
            except Exception as exc:  # the store is briefly unreachable: try again next round
                log.warning("correction #%d: could not renew the lease (%s)", row.id, type(exc).__name__)

    # -- the background worker -----------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="nextcaller-outbox", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set():
                    done = self.attempt()
                    if done is None:
                        break
                    row, outcome = done
                    if outcome in (DELIVERED, REJECTED) and row.attempts > 1:
                        # the agent was told "queued" at submit time; now tell them how it ended
                        self._safe_notify(row, outcome)
                self.tell_cancelled()
            except Exception:  # keep the worker alive whatever happens
                log.exception("outbox worker: unexpected error")
            self._wake.wait(timeout=min(self.retry_seconds, 5.0))
            self._wake.clear()

    def tell_cancelled(self) -> int:
        """Tell each agent whose waiting correction a forget cancelled, then drop the row; how many were told.

        A notice Slack could not take stays for the next round (the row is the job).
        """
        told = 0
        for row in self.store.cancelled():
            try:
                self._notify(row, CANCELLED)
            except Exception:
                log.warning("outbox: could not tell the agent about cancelled correction #%d", row.id)
                continue
            self.store.drop(row.id)
            told += 1
        return told

    def _safe_notify(self, row: Correction, outcome: str) -> None:
        try:
            self._notify(row, outcome)
        except Exception:
            log.warning("outbox: could not tell the agent about correction #%d", row.id)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker and let deliveries in progress finish (bounded); the store stays open.

        After this no new attempt starts; whoever opened the store closes it.
        """
        self.stop()
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
