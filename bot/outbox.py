"""A durable outbox for corrections: nothing an agent submitted is lost.

Every correction is written to SQLite (file mode 0600) *before* any attempt to
deliver it.  Delivery is tried at once; if the API is down (unreachable,
timing out, 5xx, rate limited, or refusing our key) the row stays ``pending``
and a background thread retries it with back-off until it is delivered — also
after the bot restarts, even after a ``kill -9`` mid-delivery.

Exactly once: each row has an idempotency key sent with the POST, and a
submission carries a ``dedupe_key`` (Slack's view id) so a repeated delivery
of the same modal submission is one row, not two.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.storage import open_private_db

__all__ = ["Outbox", "Correction", "DELIVERED", "PENDING", "REJECTED"]

log = logging.getLogger("bot.outbox")

PENDING, DELIVERING, DELIVERED, REJECTED = "pending", "delivering", "delivered", "rejected"
# An attempt that has not finished in this long was cut off (crash, kill -9): try again.
LEASE_SECONDS = 120.0
MAX_BACKOFF = 60.0  # an outage of any length is retried at least once a minute

# Failures worth waiting out; anything else from the API is a final refusal.
_RETRYABLE = (
    errors.TransportError,
    errors.ServerError,
    errors.RateLimitError,
    errors.AuthError,
    errors.BillingError,
    errors.ExpiredTrialError,
    errors.BadResponseError,
)


@dataclass(frozen=True)
class Correction:
    id: int
    key: str
    profile_id: str
    body: dict[str, Any]
    user_id: str | None
    channel_id: str | None
    status: str
    attempts: int
    last_error: str


Deliver = Callable[[Correction], None]  # raises NextCallerError on failure
Notify = Callable[[Correction, str], None]  # tells the agent what happened


class Outbox:
    def __init__(
        self,
        path: str | Path,
        deliver: Deliver,
        notify: Notify | None = None,
        *,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
    ):
        self.path = Path(path)
        self._deliver = deliver
        self._notify = notify or (lambda c, outcome: None)
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, dedupe_key TEXT UNIQUE,
            profile_id TEXT NOT NULL, body TEXT NOT NULL, user_id TEXT, channel_id TEXT,
            status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL,
            lease_until REAL NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL, delivered REAL)""")
        # One bot process owns an outbox file: a row still marked "delivering" when
        # it opens was cut off by a crash or kill -9 and is due again now.
        recovered = self._db.execute(
            "UPDATE outbox SET status=?, lease_until=0 WHERE status=?", (PENDING, DELIVERING)
        ).rowcount
        if recovered:
            log.warning("outbox: %d correction(s) were mid-delivery when the bot stopped; retrying them", recovered)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._in_flight = 0
        self._idle = threading.Condition()
        self._closed = False

    # -- reading --------------------------------------------------------------------
    def _row(self, where: str, args: tuple) -> Correction | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id, key, profile_id, body, user_id, channel_id, status, attempts,"
                f" last_error FROM outbox WHERE {where}",
                args,
            ).fetchone()
        return Correction(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8]) if r else None

    def get(self, row_id: int) -> Correction | None:
        return self._row("id=?", (row_id,))

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        counts = {PENDING: 0, DELIVERED: 0, REJECTED: 0}
        for status, n in rows:
            counts[PENDING if status == DELIVERING else status] = counts.get(status, 0) + n
        return counts

    # -- writing --------------------------------------------------------------------
    def submit(
        self,
        profile_id: str,
        body: dict[str, Any],
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
        dedupe_key: str | None = None,
    ) -> tuple[Correction, bool]:
        """Store the correction durably; returns (row, created). A repeated dedupe_key is not stored twice."""
        now = self._clock()
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (key, dedupe_key, profile_id, body, user_id, channel_id, status,"
                " next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, dedupe_key, profile_id, json.dumps(body), user_id, channel_id, PENDING, now, now),
            )
            created = cur.rowcount == 1
        row = self._row("id=?", (cur.lastrowid,)) if created else self._row("dedupe_key=?", (dedupe_key,))
        assert row is not None
        return row, created

    def _claim(self, row_id: int | None = None) -> Correction | None:
        """Take one due row for delivery (a lease, so two workers never send the same row)."""
        now = self._clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if row_id is not None:
                    r = self._db.execute(
                        "SELECT id FROM outbox WHERE id=? AND (status=? OR (status=? AND lease_until < ?))",
                        (row_id, PENDING, DELIVERING, now),
                    ).fetchone()
                else:
                    r = self._db.execute(
                        "SELECT id FROM outbox WHERE (status=? AND next_attempt <= ?) OR (status=? AND lease_until < ?)"
                        " ORDER BY id LIMIT 1",
                        (PENDING, now, DELIVERING, now),
                    ).fetchone()
                if r is None:
                    self._db.execute("COMMIT")
                    return None
                self._db.execute(
                    "UPDATE outbox SET status=?, lease_until=?, attempts=attempts+1 WHERE id=?",
                    (DELIVERING, now + LEASE_SECONDS, r[0]),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.get(r[0])

    def _finish(self, row: Correction, status: str, error: str = "") -> None:
        now = self._clock()
        backoff = min(MAX_BACKOFF, self.retry_seconds * (2 ** max(0, row.attempts - 1)))
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET status=?, last_error=?, lease_until=0, next_attempt=?, delivered=? WHERE id=?",
                (status, error[:500], now + backoff, now if status == DELIVERED else None, row.id),
            )

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
        row = self._claim(row_id)
        if row is None:
            return None
        try:
            self._deliver(row)
        except _RETRYABLE as exc:
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
        final = self.get(row.id) or row
        return final, outcome

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
            except Exception:  # keep the worker alive whatever happens
                log.exception("outbox worker: unexpected error")
            self._wake.wait(timeout=min(self.retry_seconds, 5.0))
            self._wake.clear()

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
        """Stop the worker, let deliveries in progress finish (bounded), close the file."""
        self.stop()
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)
        with self._lock:
            self._db.close()
