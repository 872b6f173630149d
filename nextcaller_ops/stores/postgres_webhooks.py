"""The webhook outbox on PostgreSQL (migration 0005): any number of processes deliver, in order per receiver.

A worker claims a receiver's oldest unsent row with ``FOR UPDATE SKIP LOCKED``
under a lease; while it holds it, no other worker can claim that receiver's
next row (the head is still unsent), so each receiver hears events in order.
``attempts`` fences a worker whose lease was taken over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .webhook_base import GAVE_UP, SENDING, SENT, WAITING, WebhookDelivery

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from .person import Person

__all__ = ["PostgresWebhookStore"]

_TABLE = "nextcaller_webhook_outbox"
_COLUMNS = "id, event_id, type, url, body, created, status, attempts, last_error"


def _row(r: Any) -> WebhookDelivery | None:
    return WebhookDelivery(*r) if r else None


class PostgresWebhookStore:
    def __init__(self, pool: ConnectionPool):
        self._pool = pool

    def enqueue(self, event_id: str, type_: str, urls: list[str], body: str, *, now: float) -> None:
        with self._pool.connection() as conn, conn.transaction():
            for url in urls:
                conn.execute(
                    f"INSERT INTO {_TABLE} (event_id, type, url, body, status, next_attempt, created)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, url) DO NOTHING",
                    (event_id, type_, url, body, WAITING, now, now),
                )

    def claim(self, *, now: float, lease_seconds: float) -> WebhookDelivery | None:
        args = {"now": now, "until": now + lease_seconds, "waiting": WAITING, "sending": SENDING}
        pick = (
            f"SELECT id FROM {_TABLE} w WHERE id = (SELECT MIN(h.id) FROM {_TABLE} h WHERE h.url = w.url"
            " AND h.status IN (%(waiting)s, %(sending)s))"
            " AND ((status = %(waiting)s AND next_attempt <= %(now)s) OR (status = %(sending)s AND lease_until < %(now)s))"
            " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )
        with self._pool.connection() as conn:
            return _row(
                conn.execute(
                    f"UPDATE {_TABLE} SET status = %(sending)s, lease_until = %(until)s, attempts = attempts + 1"
                    f" WHERE id = ({pick}) RETURNING {_COLUMNS}",
                    args,
                ).fetchone()
            )

    def finish(self, row: WebhookDelivery, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"UPDATE {_TABLE} SET status = %s, last_error = %s, lease_until = 0, next_attempt = %s, sent = %s"
                " WHERE id = %s AND attempts = %s AND status = %s",
                (status, error[:500], next_attempt, now if status == SENT else None, row.id, row.attempts, SENDING),
            )

    def counts(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT status, COUNT(*) FROM {_TABLE} GROUP BY status").fetchall()
        counts = {WAITING: 0, SENT: 0, GAVE_UP: 0}
        for status, n in rows:
            key = WAITING if status == SENDING else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def purge(self, before: float) -> int:
        with self._pool.connection() as conn:
            return conn.execute(
                f"DELETE FROM {_TABLE} WHERE status IN (%s, %s) AND created < %s", (SENT, GAVE_UP, before)
            ).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete every row holding ``person`` (a body with ``NEXTCALLER_OPS_WEBHOOK_PII=1``'s full number,
        or a profile id), queued or sent: a row never delivered is an event the receiver will not hear."""
        with self._pool.connection() as conn, conn.transaction():
            rows = conn.execute(f"SELECT id, body, last_error FROM {_TABLE}").fetchall()
            hits = [r[0] for r in rows if person.mentions(r[1]) or person.mentions(r[2])]
            if apply and hits:
                conn.execute(f"DELETE FROM {_TABLE} WHERE id = ANY(%s)", (hits,))
        return len(hits)

    def close(self) -> None:
        """The pool belongs to whoever opened the stores."""
