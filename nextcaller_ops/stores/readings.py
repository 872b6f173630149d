"""What an operator watches in the stores: the outbox's backlog and triage items by state.

Read-only queries for ``/readyz`` and ``/metrics`` (bot/health.py), over the
stores :func:`~nextcaller_ops.stores.open_stores` opened: the same connection
(PostgreSQL pool, or the SQLite file's handle and lock) the store itself uses,
so a reading costs no new connection.  The stores package owns these tables; a
reading is a sibling of the store it reads, hence the shared private handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import DELIVERING, PENDING

__all__ = ["Backlog", "outbox_backlog", "triage_states", "TRIAGE_STATES"]

# Triage items by where people stand with them (one state each): nobody has it, someone claimed it, done.
TRIAGE_STATES = ("open", "claimed", "resolved")


@dataclass(frozen=True)
class Backlog:
    """Corrections not delivered yet: how many, and how long the oldest has waited (seconds; None: none)."""

    depth: int
    oldest_age: float | None
    oldest_due_age: float | None  # among those due now (or whose delivery's lease ran out): a stuck queue


def _postgres(store: Any) -> bool:
    return hasattr(store, "_pool")


def outbox_backlog(outbox: Any, now: float) -> Backlog:
    """The backlog of ``outbox`` (a store from :func:`open_stores`) at epoch time ``now``."""
    args = {"pending": PENDING, "delivering": DELIVERING, "now": now}
    due = "(status = %(pending)s AND next_attempt <= %(now)s) OR (status = %(delivering)s AND lease_until < %(now)s)"
    sql = (
        "SELECT COUNT(*), MIN(created), MIN(CASE WHEN {due} THEN created END) FROM {table}"
        " WHERE status IN (%(pending)s, %(delivering)s)"
    )
    if _postgres(outbox):
        with outbox._pool.connection() as conn:
            row = conn.execute(sql.format(due=due, table="nextcaller_outbox"), args).fetchone()
    else:  # sqlite3 names its parameters :name
        named = sql.format(due=due, table="outbox").replace("%(", ":").replace(")s", "")
        with outbox._lock:
            row = outbox._db.execute(named, args).fetchone()
    depth, oldest, oldest_due = row
    return Backlog(
        depth=int(depth),
        oldest_age=None if oldest is None else max(0.0, now - oldest),
        oldest_due_age=None if oldest_due is None else max(0.0, now - oldest_due),
    )


def triage_states(triage: Any) -> dict[str, int]:
    """``{"open": n, "claimed": n, "resolved": n}`` over every triage item the store keeps."""
    sql = (
        "SELECT CASE WHEN resolved_at IS NOT NULL THEN 'resolved' WHEN claimed_by IS NOT NULL THEN 'claimed'"
        " ELSE 'open' END AS state, COUNT(*) FROM {table} GROUP BY state"
    )
    if _postgres(triage):
        with triage._pool.connection() as conn:
            rows = conn.execute(sql.format(table="nextcaller_triage_items")).fetchall()
    else:
        with triage._lock:
            rows = triage._db.execute(sql.format(table="triage_items")).fetchall()
    counts = dict.fromkeys(TRIAGE_STATES, 0)
    counts.update({state: int(n) for state, n in rows})
    return counts
