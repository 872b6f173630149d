"""The corrections outbox on PostgreSQL: a work queue that any number of processes drain.

A worker claims the oldest due row with ``FOR UPDATE SKIP LOCKED`` (claimers
never wait for, nor take, each other's rows) and holds it under a lease.  A row
whose worker died (kill -9, a lost machine) is claimable again when its lease
runs out.  Each claim counts an attempt, and the attempt number fences the
worker: :meth:`finish` and :meth:`renew` from a worker whose lease was taken
over change nothing.  The idempotency key (``key``) travels with every attempt,
so a correction the API applied before its worker died is not applied twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .base import DELIVERED, DELIVERING, PENDING, REJECTED, Correction
from .person import CANCELLED, Person

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresOutboxStore"]

_COLUMNS = "id, key, profile_id, body, user_id, channel_id, status, attempts, last_error"
_CLAIMABLE = (
    "((status = %(pending)s AND next_attempt <= %(now)s) OR (status = %(delivering)s AND lease_until < %(now)s))"
)


def _correction(r: tuple | None) -> Correction | None:
    return Correction(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) if r else None


class PostgresOutboxStore:
    """Rows in ``nextcaller_outbox``, shared by live processes: leases decide who delivers."""

    def __init__(self, pool: ConnectionPool):
        self._pool = pool

    def _one(self, sql: str, args: Any) -> Correction | None:
        with self._pool.connection() as conn:
            return _correction(conn.execute(sql, args).fetchone())

    def get(self, row_id: int) -> Correction | None:
        return self._one(f"SELECT {_COLUMNS} FROM nextcaller_outbox WHERE id = %s", (row_id,))

    def counts(self) -> dict[str, int]:
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM nextcaller_outbox GROUP BY status").fetchall()
        counts = {PENDING: 0, DELIVERED: 0, REJECTED: 0}
        for status, n in rows:
            key = PENDING if status == DELIVERING else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def submit(
        self,
        profile_id: str,
        body: dict[str, Any],
        *,
        now: float,
        user_id: str | None = None,
        channel_id: str | None = None,
        dedupe_key: str | None = None,
        due: float | None = None,
    ) -> tuple[Correction, bool]:
        from psycopg.types.json import Jsonb

        with self._pool.connection() as conn:
            created = _correction(
                conn.execute(
                    "INSERT INTO nextcaller_outbox (key, dedupe_key, profile_id, body, user_id, channel_id, status,"
                    " next_attempt, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    f" ON CONFLICT (dedupe_key) DO NOTHING RETURNING {_COLUMNS}",
                    (
                        uuid.uuid4().hex,
                        dedupe_key,
                        profile_id,
                        Jsonb(body),
                        user_id,
                        channel_id,
                        PENDING,
                        now if due is None else due,
                        now,
                    ),
                ).fetchone()
            )
            if created is not None:
                return created, True
            # The same submission again (a retry, or a delivery to another process): the row it made.
            existing = _correction(
                conn.execute(
                    f"SELECT {_COLUMNS} FROM nextcaller_outbox WHERE dedupe_key = %s", (dedupe_key,)
                ).fetchone()
            )
        assert existing is not None
        return existing, False

    def claim(self, row_id: int | None, *, now: float, lease_seconds: float) -> Correction | None:
        args = {"now": now, "until": now + lease_seconds, "pending": PENDING, "delivering": DELIVERING, "id": row_id}
        if row_id is None:
            pick = f"SELECT id FROM nextcaller_outbox WHERE {_CLAIMABLE} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        else:  # asked for by id (just submitted): due or not, unless someone holds it
            pick = (
                "SELECT id FROM nextcaller_outbox WHERE id = %(id)s AND (status = %(pending)s"
                " OR (status = %(delivering)s AND lease_until < %(now)s)) FOR UPDATE SKIP LOCKED"
            )
        return self._one(
            f"UPDATE nextcaller_outbox SET status = %(delivering)s, lease_until = %(until)s, attempts = attempts + 1"
            f" WHERE id = ({pick}) RETURNING {_COLUMNS}",
            args,
        )

    def renew(self, row: Correction, *, now: float, lease_seconds: float) -> bool:
        with self._pool.connection() as conn:
            return (
                conn.execute(
                    "UPDATE nextcaller_outbox SET lease_until = %s WHERE id = %s AND attempts = %s AND status = %s",
                    (now + lease_seconds, row.id, row.attempts, DELIVERING),
                ).rowcount
                == 1
            )

    def finish(self, row: Correction, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE nextcaller_outbox SET status = %s, last_error = %s, lease_until = 0, next_attempt = %s,"
                " delivered = %s WHERE id = %s AND attempts = %s AND status = %s",
                (
                    status,
                    error[:500],
                    next_attempt,
                    now if status == DELIVERED else None,
                    row.id,
                    row.attempts,
                    DELIVERING,
                ),
            )

    def purge(self, before: float) -> int:
        with self._pool.connection() as conn:  # finished rows only: a waiting correction is kept until delivered
            return conn.execute(
                "DELETE FROM nextcaller_outbox WHERE status IN (%s, %s) AND created < %s", (DELIVERED, REJECTED, before)
            ).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete finished rows holding ``person``; cancel waiting ones (body emptied, kept for :meth:`cancelled`)."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, profile_id, body::text, last_error, status FROM nextcaller_outbox WHERE status <> %s",
                (CANCELLED,),
            ).fetchall()
            hits = [
                (r[0], r[4])
                for r in rows
                if r[1].casefold() in person.words or person.mentions(r[2]) or person.mentions(r[3])
            ]
            if apply:
                for row_id, status in hits:
                    if status in (DELIVERED, REJECTED):
                        conn.execute("DELETE FROM nextcaller_outbox WHERE id = %s", (row_id,))
                    else:
                        conn.execute(
                            "UPDATE nextcaller_outbox SET status = %s, body = '{}'::jsonb, profile_id = '',"
                            " last_error = '', lease_until = 0 WHERE id = %s",
                            (CANCELLED, row_id),
                        )
        return len(hits)

    def cancelled(self) -> list[Correction]:
        """Corrections cancelled by a forget, whose agents are still to be told."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM nextcaller_outbox WHERE status = %s ORDER BY id", (CANCELLED,)
            ).fetchall()
        return [c for c in map(_correction, rows) if c is not None]

    def drop(self, row_id: int) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM nextcaller_outbox WHERE id = %s", (row_id,))

    def recover(self) -> int:
        # Live processes share these rows: a row mid-delivery is left to its lease.
        return 0

    def close(self) -> None:
        """The pool belongs to whoever opened the stores."""
