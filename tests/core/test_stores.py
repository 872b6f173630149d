"""The stores through their interfaces (``nextcaller_ops.stores.base``), for every backend.

``store_backend`` names the backends under test: the embedded SQLite one and
PostgreSQL (a fresh schema in the test database per test; skipped without the
server, failed under ``CI=true``).  A backend adds a param there and a branch in
``open_backend``; every test here then runs against it too.  Tests of one backend's own behaviour (file
modes, what a restart takes back) are at the end, named for it.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable

import pytest

from nextcaller_ops.errors import UsageError
from nextcaller_ops.stores import Stores, StoreUnavailableError, open_stores
from nextcaller_ops.stores.base import DELIVERED, DELIVERING, PENDING, REJECTED
from tests.support.secrets import DB_PASSWORD

DAY = 86400.0
PROFILE = "97d949a413f4ea8b85e9586e1f2d9a"
LEASE = 120.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request) -> str:
    return request.param


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def open_backend(store_backend, tmp_path, clock, request) -> Callable[..., Stores]:
    """Opens (or re-opens: same place, same data) the backend's stores, closed after the test."""
    opened: list[Stores] = []
    schema = request.getfixturevalue("pg_schema") if store_backend == "postgresql" else None

    def open_(**kw) -> Stores:
        kw.setdefault("clock", clock)
        if store_backend == "sqlite":
            stores = open_stores(tmp_path / "data", **kw)
        elif store_backend == "postgresql":
            stores = open_stores(tmp_path / "unused", database_url=schema.url, **kw)
        else:  # pragma: no cover - a backend param without a branch here
            raise AssertionError(f"no way to open {store_backend!r} stores")
        opened.append(stores)
        return stores

    yield open_
    for stores in opened:
        try:
            stores.close()
        except Exception:  # closed by the test already
            pass


@pytest.fixture
def stores(open_backend) -> Stores:
    return open_backend()


# -- the audit log --------------------------------------------------------------------------------


def audit_some(stores: Stores, clock: Clock) -> None:
    rows = [
        ("U1", "C1", "lookup", "2125558383", "found 1"),
        ("U2", "C1", "share", "2125558383", "redacted"),
        ("U1", "C2", "refresh", "3125550142", "found 2"),
        ("U1", "cli", "correction", None, "sent"),
        ("U1", "C1", "lookup", "2025550999", "no record"),
    ]
    for user, channel, action, phone, outcome in rows:
        clock.now += 60
        stores.audit.record(user_id=user, channel_id=channel, action=action, phone=phone, outcome=outcome)


def test_audit_entries_are_whole_and_in_order(stores, clock):
    stores.audit.record(
        user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="found 1", detail="x" * 600
    )
    (entry,) = stores.audit.entries()
    assert entry == {
        "ts": clock.now,
        "user_id": "U1",
        "channel_id": "C1",
        "action": "lookup",
        "phone": "2125558383",
        "outcome": "found 1",
        "detail": "x" * 500,
    }
    audit_some(stores, clock)
    stamps = [e["ts"] for e in stores.audit.entries()]
    assert stamps == sorted(stamps) and len(stamps) == 6


def test_audit_query_by_time_user_and_number(stores, clock):
    start = clock.now
    audit_some(stores, clock)
    outcomes = lambda **kw: [e["outcome"] for e in stores.audit.entries(**kw)]  # noqa: E731
    assert outcomes(phone="2125558383") == ["found 1", "redacted"]
    assert outcomes(user_id="U2") == ["redacted"]
    assert outcomes(since=start + 180) == ["found 2", "sent", "no record"]
    assert outcomes(user_id="U1", since=start + 180, phone="2025550999") == ["no record"]
    assert outcomes(user_id="U9") == []


def test_recent_is_the_users_lookups_newest_first(stores, clock):
    audit_some(stores, clock)
    recent = stores.audit.recent("U1")
    assert [(e["action"], e["phone"]) for e in recent] == [
        ("lookup", "2025550999"),
        ("refresh", "3125550142"),
        ("lookup", "2125558383"),
    ]
    assert len(stores.audit.recent("U1", limit=1)) == 1
    assert stores.audit.recent("U2") == []  # a share is not a lookup


def test_audit_purge_forgets_the_entries_before_the_cut_off_and_only_those(stores, clock):
    audit_some(stores, clock)  # one a minute
    stamps = [e["ts"] for e in stores.audit.entries()]
    clock.now += 1000 * DAY  # the store's clock decides nothing: the caller names the cut-off
    assert stores.audit.purge(stamps[2]) == 2
    assert [e["ts"] for e in stores.audit.entries()] == stamps[2:]
    assert stores.audit.purge(stamps[2]) == 0
    assert stores.audit.purge(stamps[-1] + 1) == 3 and stores.audit.entries() == []


def test_opening_the_stores_purges_nothing(open_backend, clock):
    """Readers open the stores too (``audit``, a lookup from the CLI): only an explicit purge deletes."""
    first = open_backend()
    audit_some(first, clock)
    assert first.dedupe.claim("Ev01")
    first.close()
    clock.now += 1000 * DAY
    again = open_backend()
    assert len(again.audit.entries()) == 5
    assert again.dedupe.purge() == 1  # the expired key was still there to purge


def test_audit_records_from_many_threads(stores):
    def burst(user: str) -> None:
        for _ in range(50):
            stores.audit.record(user_id=user, channel_id="C1", action="lookup", phone="2125558383", outcome="found 1")

    threads = [threading.Thread(target=burst, args=(f"U{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores.audit.entries()) == 400


# -- the outbox's rows ---------------------------------------------------------------------------


def test_submit_stores_a_pending_row_and_a_dedupe_key_is_one_row(stores, clock):
    outbox = stores.outbox
    row, created = outbox.submit(PROFILE, {"email": "j@example.com"}, now=clock(), user_id="U1", dedupe_key="V1")
    assert created and (row.status, row.attempts, row.user_id, row.channel_id) == (PENDING, 0, "U1", None)
    assert row.body == {"email": "j@example.com"} and len(row.key) >= 16
    again, created_again = outbox.submit(PROFILE, {"email": "other@example.com"}, now=clock(), dedupe_key="V1")
    assert not created_again and again == row
    # no dedupe key: never the same row
    a, _ = outbox.submit(PROFILE, {"first_name": "A"}, now=clock())
    b, _ = outbox.submit(PROFILE, {"first_name": "A"}, now=clock())
    assert len({row.id, a.id, b.id}) == 3 and len({row.key, a.key, b.key}) == 3
    assert outbox.get(row.id) == row and outbox.get(10**9) is None
    assert outbox.counts() == {PENDING: 3, DELIVERED: 0, REJECTED: 0}


def test_claim_takes_the_oldest_due_row_under_a_lease(stores, clock):
    outbox = stores.outbox
    first, _ = outbox.submit(PROFILE, {"first_name": "A"}, now=clock())
    second, _ = outbox.submit(PROFILE, {"first_name": "B"}, now=clock())
    claimed = outbox.claim(None, now=clock(), lease_seconds=LEASE)
    assert claimed.id == first.id and (claimed.status, claimed.attempts) == (DELIVERING, 1)
    assert outbox.claim(first.id, now=clock(), lease_seconds=LEASE) is None  # leased
    assert outbox.claim(None, now=clock(), lease_seconds=LEASE).id == second.id
    assert outbox.claim(None, now=clock(), lease_seconds=LEASE) is None
    assert outbox.counts()[PENDING] == 2  # being delivered still counts as waiting


def test_an_expired_lease_can_be_claimed_again(stores, clock):
    outbox = stores.outbox
    row, _ = outbox.submit(PROFILE, {"first_name": "A"}, now=clock())
    outbox.claim(row.id, now=clock(), lease_seconds=LEASE)
    assert outbox.claim(None, now=clock() + LEASE - 1, lease_seconds=LEASE) is None
    again = outbox.claim(None, now=clock() + LEASE + 1, lease_seconds=LEASE)
    assert again.id == row.id and again.attempts == 2


def test_a_worker_whose_lease_was_taken_over_can_neither_renew_nor_finish(stores, clock):
    outbox = stores.outbox
    row, _ = outbox.submit(PROFILE, {"first_name": "A"}, now=clock())
    slow = outbox.claim(row.id, now=clock(), lease_seconds=LEASE)
    assert outbox.renew(slow, now=clock() + 60, lease_seconds=LEASE)  # still its own: extended
    assert outbox.claim(None, now=clock() + LEASE + 1, lease_seconds=LEASE) is None
    taker = outbox.claim(None, now=clock() + 60 + LEASE + 1, lease_seconds=LEASE)
    assert (taker.id, taker.attempts) == (row.id, 2)
    assert not outbox.renew(slow, now=clock(), lease_seconds=LEASE)
    outbox.finish(slow, REJECTED, now=clock(), error="late", next_attempt=clock())  # changes nothing
    assert outbox.get(row.id).status == DELIVERING
    outbox.finish(taker, DELIVERED, now=clock(), next_attempt=clock())
    assert outbox.get(row.id).status == DELIVERED and outbox.counts()[DELIVERED] == 1


def test_finish_records_the_outcome_and_when_to_try_again(stores, clock):
    outbox = stores.outbox
    submitted = [outbox.submit(PROFILE, {"first_name": n}, now=clock())[0] for n in "ABC"]
    rows = [outbox.claim(row.id, now=clock(), lease_seconds=LEASE) for row in submitted]
    outbox.finish(rows[0], DELIVERED, now=clock(), next_attempt=clock())
    outbox.finish(rows[1], REJECTED, now=clock(), error="[1054] email is not valid" + "!" * 600, next_attempt=clock())
    outbox.finish(rows[2], PENDING, now=clock(), error="[500] down", next_attempt=clock() + 30)
    assert outbox.counts() == {PENDING: 1, DELIVERED: 1, REJECTED: 1}
    assert outbox.get(rows[1].id).last_error.startswith("[1054] email is not valid")
    assert len(outbox.get(rows[1].id).last_error) == 500
    assert outbox.claim(None, now=clock() + 29, lease_seconds=LEASE) is None  # not due yet
    retried = outbox.claim(rows[2].id, now=clock(), lease_seconds=LEASE)  # asked for by id: now
    assert (retried.id, retried.attempts) == (rows[2].id, 2)
    outbox.finish(retried, DELIVERED, now=clock(), next_attempt=clock())
    assert outbox.claim(None, now=clock() + 3600, lease_seconds=LEASE) is None  # finished rows stay finished
    assert outbox.counts() == {PENDING: 0, DELIVERED: 2, REJECTED: 1}


def test_two_workers_never_claim_the_same_row(open_backend, clock):
    one, other = open_backend(), open_backend()  # two handles on the same data, as two processes have
    for n in range(20):
        one.outbox.submit(PROFILE, {"first_name": f"N{n}"}, now=clock())
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(stores: Stores) -> None:
        while (row := stores.outbox.claim(None, now=clock(), lease_seconds=LEASE)) is not None:
            with lock:
                claimed.append(row.id)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (one, other, one, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 20


def test_rows_outlive_the_process_that_wrote_them(open_backend, clock):
    first = open_backend()
    row, _ = first.outbox.submit(PROFILE, {"first_name": "Jerome"}, now=clock(), dedupe_key="V1")
    first.close()
    second = open_backend()
    assert second.outbox.get(row.id) == row
    assert second.outbox.submit(PROFILE, {"first_name": "Jerome"}, now=clock(), dedupe_key="V1") == (row, False)


def test_outbox_purge_forgets_finished_corrections_only(stores, clock):
    """Delivered and refused rows keep an agent's changes (personal data): forgotten after their time."""
    outbox = stores.outbox

    def finished(status: str, name: str):
        row, _ = outbox.submit(PROFILE, {"first_name": name}, now=clock())
        outbox.finish(outbox.claim(row.id, now=clock(), lease_seconds=LEASE), status, now=clock(), next_attempt=clock())
        return row

    old_delivered, old_rejected = finished(DELIVERED, "A"), finished(REJECTED, "B")
    old_waiting, _ = outbox.submit(PROFILE, {"first_name": "C"}, now=clock())  # never tried: the API is down
    old_retrying = finished(PENDING, "D")
    old_delivering, _ = outbox.submit(PROFILE, {"first_name": "E"}, now=clock())
    outbox.claim(old_delivering.id, now=clock(), lease_seconds=LEASE)
    clock.now += 10 * DAY
    young_delivered = finished(DELIVERED, "F")
    assert outbox.purge(clock.now - DAY) == 2
    assert outbox.get(old_delivered.id) is None and outbox.get(old_rejected.id) is None
    kept = (old_waiting, old_retrying, old_delivering, young_delivered)
    assert [outbox.get(row.id).profile_id for row in kept] == [PROFILE] * 4
    assert outbox.counts() == {PENDING: 3, DELIVERED: 1, REJECTED: 0}
    assert outbox.purge(clock.now - DAY) == 0


# -- de-duplication ----------------------------------------------------------------------------------


def test_a_key_is_claimed_once(stores):
    assert stores.dedupe.claim("Ev01") is True
    assert stores.dedupe.claim("Ev01") is False
    assert stores.dedupe.claim("Ev02") is True


def test_a_key_is_claimed_once_among_many_threads_and_handles(open_backend):
    handles = [open_backend(), open_backend()]
    wins: list[bool] = []
    gate = threading.Barrier(16)

    def one(i: int) -> None:
        gate.wait()
        wins.append(handles[i % 2].dedupe.claim("Ev-contested"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1 and len(wins) == 16


def test_keys_expire_after_their_ttl(open_backend, clock):
    stores = open_backend(dedupe_ttl_seconds=3600)
    assert stores.dedupe.claim("Ev01")
    clock.now += 3599
    assert not stores.dedupe.claim("Ev01")
    assert stores.dedupe.claim("Ev02")
    clock.now += 2  # Ev01 is over an hour old, Ev02 is not
    assert stores.dedupe.purge() == 1
    assert stores.dedupe.claim("Ev01") and not stores.dedupe.claim("Ev02")


def test_claimed_keys_survive_a_restart(open_backend):
    first = open_backend()
    assert first.dedupe.claim("Ev01")
    first.close()
    assert open_backend().dedupe.claim("Ev01") is False


# -- choosing the backend ------------------------------------------------------------------------------


def test_a_url_that_is_not_postgresql_is_refused_without_echoing_it(tmp_path):
    url = f"mysql://ops:{DB_PASSWORD}@db.example:3306/ops"
    with pytest.raises(UsageError) as info:
        open_stores(tmp_path, database_url=url)
    assert DB_PASSWORD not in str(info.value) and "db.example" not in str(info.value)
    assert "postgresql://" in str(info.value)
    assert not (tmp_path / "audit.sqlite3").exists()


def test_an_unreachable_database_is_one_clear_error_without_the_url(tmp_path, caplog):
    from tests.support.procs import free_port

    url = f"postgresql://ops:{DB_PASSWORD}@127.0.0.1:{free_port()}/ops"
    with pytest.raises(StoreUnavailableError) as info:
        open_stores(tmp_path, database_url=url)
    assert "PostgreSQL" in str(info.value) and "NEXTCALLER_OPS_DATABASE_URL" in info.value.hint
    assert DB_PASSWORD not in str(info.value) and DB_PASSWORD not in caplog.text
    assert not (tmp_path / "audit.sqlite3").exists()  # no silent fallback to the embedded stores


def test_the_schema_is_created_once_by_many_processes_starting_together(pg_schema):
    """Four processes open the stores at the same moment: the advisory lock lets one create the schema."""
    import subprocess
    import sys

    from nextcaller_ops.stores.postgres import migrations

    code = (
        "import sys; from nextcaller_ops.stores import open_stores; "
        "s = open_stores('.', database_url=sys.argv[1]); s.audit.record(user_id='U', channel_id='C',"
        " action='lookup', phone=None, outcome='ok'); s.close()"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_schema.url], stderr=subprocess.PIPE) for _ in range(4)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    latest = migrations()[-1][0]
    assert pg_schema.query("SELECT version FROM nextcaller_schema_version ORDER BY version") == [
        (n,) for n, _, _ in migrations()
    ]
    assert latest >= 1 and pg_schema.query("SELECT COUNT(*) FROM nextcaller_audit") == [(4,)]


# -- the SQLite backend's own behaviour ---------------------------------------------------------------


def test_sqlite_files_are_private(tmp_path):
    stores = open_stores(tmp_path / "data")
    try:
        stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="found 1")
        stores.dedupe.claim("Ev01")
        for name in ("audit.sqlite3", "outbox.sqlite3", "dedupe.sqlite3"):
            assert stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode) == 0o600, name
    finally:
        stores.close()


def test_sqlite_outbox_takes_back_rows_left_mid_delivery_when_reopened(tmp_path, clock):
    first = open_stores(tmp_path)
    row, _ = first.outbox.submit(PROFILE, {"first_name": "Jerome"}, now=clock())
    first.outbox.claim(row.id, now=clock(), lease_seconds=LEASE)
    first.close()  # as if killed: one process owns the file, so whoever held the lease is gone
    second = open_stores(tmp_path)
    try:
        assert second.outbox.recover() == 1
        assert second.outbox.get(row.id).status == PENDING
        again = second.outbox.claim(None, now=clock(), lease_seconds=LEASE)
        assert again.attempts == 2
        second.outbox.finish(again, DELIVERED, now=clock(), next_attempt=clock())
        assert second.outbox.recover() == 0  # finished rows are left alone
    finally:
        second.close()
