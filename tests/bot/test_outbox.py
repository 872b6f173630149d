"""The corrections outbox's delivery worker: a fake deliver function, a fake clock, the real SQLite store."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.outbox import DELIVERED, LEASE_SECONDS, MAX_BACKOFF, PENDING, REJECTED, Correction, Outbox
from nextcaller_ops import errors
from nextcaller_ops.stores.sqlite_outbox import SqliteOutboxStore
from tests.support.common import PATIENCE

PROFILE = "97d949a413f4ea8b85e9586e1f2d9a"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Deliveries:
    """A deliver function that answers each call with the next outcome given (an error is raised,
    None succeeds), then succeeds; it keeps every row it got."""

    def __init__(self, *outcomes: BaseException | None) -> None:
        self.outcomes = list(outcomes)
        self.rows: list[Correction] = []

    def __call__(self, row: Correction) -> None:
        self.rows.append(row)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path) -> Iterator[SqliteOutboxStore]:
    s = SqliteOutboxStore(tmp_path / "outbox.sqlite3")
    yield s
    s.close()


def make_outbox(store, deliver, clock, **kw) -> Outbox:
    return Outbox(store, deliver, kw.pop("notify", None), retry_seconds=kw.pop("retry_seconds", 5.0), clock=clock)


def test_delivered_at_once_with_its_idempotency_key(store, clock):
    deliver = Deliveries()
    outbox = make_outbox(store, deliver, clock)
    row, created = outbox.submit(PROFILE, {"first_name": "Jerome"}, user_id="U1", channel_id="C1")
    assert created and row.status == PENDING and row.attempts == 0
    final, outcome = outbox.attempt(row.id)
    assert outcome == DELIVERED and final.status == DELIVERED and final.attempts == 1
    assert [(r.key, r.profile_id, r.body) for r in deliver.rows] == [(row.key, PROFILE, {"first_name": "Jerome"})]
    assert outbox.counts() == {"pending": 0, "delivered": 1, "rejected": 0}
    assert outbox.attempt() is None  # nothing left to do


def test_retries_back_off_doubling_with_the_same_key(store, clock):
    down = errors.ServerError("the API answered HTTP 503", status=503)
    deliver = Deliveries(down, down, down)
    outbox = make_outbox(store, deliver, clock, retry_seconds=5.0)
    row, _ = outbox.submit(PROFILE, {"last_name": "Seinfield"})
    assert outbox.attempt(row.id)[1] == PENDING
    for wait in (5.0, 10.0, 20.0):
        clock.advance(wait - 0.01)
        assert outbox.attempt() is None, f"due before {wait} s"
        clock.advance(0.01)
        final, outcome = outbox.attempt()
    assert outcome == DELIVERED and final.attempts == 4
    assert {r.key for r in deliver.rows} == {row.key} and len(deliver.rows) == 4


def test_back_off_is_capped_at_a_minute(store, clock):
    down = errors.APIUnreachableError("no route")
    outbox = make_outbox(store, Deliveries(down, down), clock, retry_seconds=50.0)
    row, _ = outbox.submit(PROFILE, {"email": "j@example.com"})
    outbox.attempt(row.id)
    clock.advance(50.0)
    assert outbox.attempt()[1] == PENDING  # second failure: 100 s would be the doubling
    clock.advance(MAX_BACKOFF)
    assert outbox.attempt()[1] == DELIVERED


@pytest.mark.parametrize(
    ("error", "outcome", "last_error"),
    [
        (errors.ValidationError("email is not valid"), REJECTED, "email is not valid"),
        (errors.InvalidProfileIdError("no such profile"), REJECTED, "no such profile"),
        (errors.ServerError("the API answered HTTP 500"), PENDING, "HTTP 500"),
        (errors.APITimeoutError("timed out"), PENDING, "timed out"),
        (errors.RateLimitError("slow down"), PENDING, "slow down"),
        (errors.ExpiredConsumerKeyError("expired"), PENDING, "expired"),  # an admin can fix the key: wait
        (errors.BadResponseError("not JSON"), PENDING, "not JSON"),
        (RuntimeError("a bug"), PENDING, "RuntimeError"),  # a bug never loses the row
    ],
)
def test_a_refusal_is_final_anything_else_waits(store, clock, error, outcome, last_error):
    outbox = make_outbox(store, Deliveries(error), clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    final, got = outbox.attempt(row.id)
    assert got == outcome and final.status == outcome and last_error in final.last_error
    if outcome == PENDING:
        clock.advance(5.0)
        assert outbox.attempt()[1] == DELIVERED
    else:
        clock.advance(3600)
        assert outbox.attempt() is None  # a refused correction is not sent again


def test_a_repeated_dedupe_key_is_the_same_row(store, clock):
    outbox = make_outbox(store, Deliveries(), clock)
    first, created = outbox.submit(PROFILE, {"first_name": "Jerome"}, dedupe_key="V0MODAL0001")
    again, created_again = outbox.submit(PROFILE, {"first_name": "Jerome"}, dedupe_key="V0MODAL0001")
    other, created_other = outbox.submit(PROFILE, {"first_name": "Jerome"}, dedupe_key="V0MODAL0002")
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == first.id and again.key == first.key and other.id != first.id
    assert outbox.counts()["pending"] == 2


def test_an_expired_lease_is_taken_over(store, clock):
    deliver = Deliveries()
    outbox = make_outbox(store, deliver, clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    # Another worker took the row and was cut off mid-delivery.
    assert store.claim(row.id, now=clock(), lease_seconds=LEASE_SECONDS) is not None
    assert outbox.attempt(row.id) is None and outbox.attempt() is None
    clock.advance(LEASE_SECONDS - 1)
    assert outbox.attempt() is None
    clock.advance(2)
    final, outcome = outbox.attempt()
    assert outcome == DELIVERED and final.attempts == 2 and deliver.rows[0].key == row.key


def test_a_restart_takes_back_rows_cut_off_by_a_crash(tmp_path, clock, caplog):
    path = tmp_path / "outbox.sqlite3"
    first = SqliteOutboxStore(path)
    row, _ = make_outbox(first, Deliveries(), clock).submit(PROFILE, {"first_name": "Jerome"})
    first.claim(row.id, now=clock(), lease_seconds=LEASE_SECONDS)  # kill -9 here
    first.close()

    second = SqliteOutboxStore(path)
    try:
        outbox = make_outbox(second, Deliveries(), clock)  # no time has passed: the lease has not run out
        assert "1 correction(s) were mid-delivery" in caplog.text
        final, outcome = outbox.attempt()
        assert outcome == DELIVERED and final.attempts == 2
    finally:
        second.close()


def test_the_worker_tells_the_agent_only_about_queued_corrections(store, clock):
    told: list[tuple[int, str]] = []
    done = threading.Event()

    def notify(row: Correction, outcome: str) -> None:
        told.append((row.id, outcome))
        done.set()

    outbox = make_outbox(store, Deliveries(None, errors.ServerError("down")), clock, notify=notify, retry_seconds=0.02)
    at_once, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    assert outbox.attempt(at_once.id)[1] == DELIVERED  # the agent was told while they waited
    queued, _ = outbox.submit(PROFILE, {"last_name": "Seinfield"})
    assert outbox.attempt(queued.id)[1] == PENDING
    outbox.start()
    try:
        clock.advance(1.0)
        outbox.wake()
        assert done.wait(PATIENCE), "the worker did not deliver the queued correction"
    finally:
        outbox.close()
    assert told == [(queued.id, DELIVERED)]


def test_close_waits_for_a_delivery_in_flight(store, clock):
    started, release = threading.Event(), threading.Event()

    def slow_deliver(row: Correction) -> None:
        started.set()
        assert release.wait(PATIENCE)

    outbox = make_outbox(store, slow_deliver, clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    attempt = threading.Thread(target=outbox.attempt, args=(row.id,))
    attempt.start()
    assert started.wait(PATIENCE)
    closer = threading.Thread(target=outbox.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "close returned while a delivery was in flight"
    release.set()
    closer.join(PATIENCE)
    attempt.join(PATIENCE)
    assert not closer.is_alive()
    assert store.get(row.id).status == DELIVERED  # finished and recorded before close returned


def test_a_closed_outbox_attempts_nothing(store, clock):
    deliver = Deliveries()
    outbox = make_outbox(store, deliver, clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    outbox.close()
    assert outbox.attempt(row.id) is None and deliver.rows == []
    assert store.get(row.id).status == PENDING  # still there for the next start


def test_the_submitters_own_attempt_comes_before_any_background_worker(store, clock):
    # The agent's submission is attempted at once by the listener; a worker thread (of
    # this or another process) polling at that moment must not take the row first,
    # or the agent is told "queued" about a correction that is being delivered.
    deliver = Deliveries()
    outbox = make_outbox(store, deliver, clock)
    row, _ = outbox.submit(PROFILE, {"first_name": "Jerome"})
    assert outbox.attempt() is None and not deliver.rows  # the worker's poll finds nothing due
    final, outcome = outbox.attempt(row.id)
    assert outcome == DELIVERED and final.attempts == 1
    # Had the listener died before its attempt, a worker picks the row up after the first back-off.
    orphan, _ = outbox.submit(PROFILE, {"first_name": "Jerry"})
    clock.now += 5.0
    picked, outcome = outbox.attempt()
    assert picked.id == orphan.id and outcome == DELIVERED
