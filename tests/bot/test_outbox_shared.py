"""The outbox and the limiter with shared state: a lease kept alive through a slow delivery (on both
stores), another process's worker taking over, and the per-user limit when Redis is down."""

from __future__ import annotations

import threading

import pytest

from bot.outbox import DELIVERED, Outbox
from nextcaller_ops.rate.window import RateLimiter
from nextcaller_ops.stores import open_stores
from nextcaller_ops.stores.base import DELIVERING
from tests.support.common import PATIENCE, wait_until

PROFILE = "97d949a413f4ea8b85e9586e1f2d9a"
LEASE = 0.3  # seconds: renewed every 0.1 s while the delivery runs


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def two_handles(request, tmp_path):
    """Two handles on the same stores, as two processes have (SQLite: the same files)."""
    schema = request.getfixturevalue("pg_schema") if request.param == "postgresql" else None
    handles = [open_stores(tmp_path, database_url=schema.url if schema else None) for _ in range(2)]
    yield handles
    for h in handles:
        h.close()


@pytest.fixture
def pg_handles(pg_schema, tmp_path):
    handles = [open_stores(tmp_path, database_url=pg_schema.url) for _ in range(2)]
    yield handles
    for h in handles:
        h.close()


def lease_until(stores, row_id: int) -> float:
    """The row's lease as stored (read past the interface, which does not show it)."""
    if stores.backend == "postgresql":
        with stores.outbox._pool.connection() as conn:
            return conn.execute("SELECT lease_until FROM nextcaller_outbox WHERE id = %s", (row_id,)).fetchone()[0]
    with stores.outbox._lock:
        return stores.outbox._db.execute("SELECT lease_until FROM outbox WHERE id = ?", (row_id,)).fetchone()[0]


def test_a_slow_delivery_keeps_its_lease_and_nobody_takes_the_row(two_handles):
    mine, theirs = two_handles
    clock = Clock()
    started, release = threading.Event(), threading.Event()

    def slow(row) -> None:
        started.set()
        release.wait(PATIENCE)

    outbox = Outbox(mine.outbox, slow, lease_seconds=LEASE, clock=clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    worker = threading.Thread(target=outbox.attempt, args=(row.id,))
    worker.start()
    try:
        assert started.wait(PATIENCE)
        first_lease = lease_until(mine, row.id)
        clock.now += 10 * LEASE  # long past the first lease: only a renewal keeps the row
        wait_until(lambda: lease_until(mine, row.id) > clock.now, what="renewal of the lease")
        assert lease_until(mine, row.id) > clock.now > first_lease
        assert theirs.outbox.claim(None, now=clock.now, lease_seconds=LEASE) is None  # still held
    finally:
        release.set()
        worker.join()
    assert theirs.outbox.get(row.id).status == DELIVERED


def test_a_row_whose_worker_died_is_taken_over_by_another_process(pg_handles):
    """PostgreSQL: the survivor is alive alongside (SQLite's one owner takes rows back on open instead)."""
    mine, theirs = pg_handles
    clock = Clock()
    row, _ = mine.outbox.submit(PROFILE, {"first_name": "Jerome"}, now=clock())
    assert mine.outbox.claim(row.id, now=clock(), lease_seconds=LEASE).status == DELIVERING  # then kill -9
    delivered: list[str] = []
    survivor = Outbox(theirs.outbox, lambda r: delivered.append(r.key), lease_seconds=LEASE, clock=clock)
    assert survivor.attempt() is None  # the lease still runs
    clock.now += LEASE + 0.01
    final, outcome = survivor.attempt()
    assert (outcome, final.attempts, delivered) == (DELIVERED, 2, [row.key])  # the same idempotency key


def test_the_limit_counts_in_this_process_while_the_shared_counter_is_down():
    answers: list[float | None] = [0.0, None, None, 7.5, None]
    limiter = RateLimiter(2, window=60, clock=lambda: 100.0, shared=lambda user: answers.pop(0))
    assert limiter.wait_time("U1") == 0.0  # the shared counter said yes (and counted it there)
    assert limiter.wait_time("U1") == 0.0  # down: counted here, 1 of 2
    assert limiter.wait_time("U1") == 0.0  # down: 2 of 2
    assert limiter.wait_time("U1") == 7.5  # back: the shared counter decides
    assert limiter.wait_time("U1") == 60.0  # (down again: this process's own count is full)
