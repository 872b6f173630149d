"""The TriageStore contract, through the interface (a new backend adds itself to ``triage_backend``)."""

from __future__ import annotations

import threading

import pytest

from nextcaller_ops.stores import TriageItem, open_stores
from nextcaller_ops.stores.base import CLAIM, DONE, FLAG, PAUSED, RELEASE, RESOLVE, RETRY

C, T0 = "C0WATCHED1", 1_800_000_000.0


@pytest.fixture(params=["sqlite", "postgresql"])
def triage_backend(request, tmp_path):
    """``open()`` -> a TriageStore on the same data each time (a restart is closing and opening again)."""
    opened = []
    url = request.getfixturevalue("pg_schema").url if request.param == "postgresql" else None

    def open_():
        stores = open_stores(tmp_path / "stores", database_url=url)
        opened.append(stores)
        return stores.triage

    yield open_
    for stores in opened:
        stores.close()


@pytest.fixture
def store(triage_backend):
    return triage_backend()


def item(ts: str, created: float = T0, numbers=("2125558383",)) -> TriageItem:
    return TriageItem(channel_id=C, message_ts=ts, thread_ts=ts, poster="U1", numbers=list(numbers), created=created)


def test_a_message_is_taken_once_whoever_asks_and_however_often(store):
    results: list[TriageItem | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.add(item("1.1"), lease_seconds=60))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (taken,) = [r for r in results if r]
    assert len(results) == 8 and taken.lease_id and taken.message_ts == "1.1"  # leased to its one taker
    assert store.get(C, "1.1").numbers == ["2125558383"] and store.get(C, "9.9") is None


def test_watching_is_none_until_set_and_persists(triage_backend):
    store = triage_backend()
    assert store.watch_state(C) is None
    store.set_watch(C, True, by="U0ADMIN001", now=T0)
    store.set_watch("C0OTHER001", False, by="U0ADMIN001", now=T0)
    assert triage_backend().watch_state(C) is True  # another process, or after a restart
    assert triage_backend().watch_state("C0OTHER001") is False


def test_sightings_count_messages_in_the_window_once_each(store):
    for ts, at in (("1.1", T0 - 90_000), ("1.2", T0 - 60), ("1.3", T0)):
        store.sighted(C, "2125558383", ts, at)
    store.sighted(C, "2125558383", "1.3", T0)  # the same message again
    store.sighted("C0OTHER001", "2125558383", "1.4", T0)
    assert store.sightings(C, "2125558383", T0 - 86_400) == 2
    assert store.sightings(C, "3125550142", T0 - 86_400) == 0


def test_claim_release_resolve_and_flag_each_by_one_person(store):
    store.add(item("1.1"), lease_seconds=60)
    claimed, changed = store.act(C, "1.1", CLAIM, "U0ANA", T0)
    assert changed and (claimed.claimed_by, claimed.claimed_at) == ("U0ANA", T0)
    held, changed = store.act(C, "1.1", CLAIM, "U0BEN", T0 + 1)
    assert not changed and held.claimed_by == "U0ANA"
    assert store.act(C, "1.1", RELEASE, "U0BEN", T0 + 2)[1] is False
    released, changed = store.act(C, "1.1", RELEASE, "U0ANA", T0 + 3)
    assert changed and released.claimed_by is None
    assert store.act(C, "1.1", FLAG, "U0BEN", T0 + 4)[1] is True
    assert store.act(C, "1.1", FLAG, "U0ANA", T0 + 5)[0].flagged_by == "U0BEN"
    resolved, changed = store.act(C, "1.1", RESOLVE, "U0ANA", T0 + 6)
    assert changed and resolved.resolved_by == "U0ANA"
    assert store.act(C, "1.1", RESOLVE, "U0BEN", T0 + 7)[1] is False
    assert store.act(C, "1.1", CLAIM, "U0BEN", T0 + 8)[1] is False  # resolved: nothing to take
    with pytest.raises(KeyError):
        store.act(C, "9.9", CLAIM, "U0ANA", T0)


def test_two_claimers_at_once_one_wins(store):
    store.add(item("1.1"), lease_seconds=60)
    wins: list[str] = []

    def claim(user: str) -> None:
        if store.act(C, "1.1", CLAIM, user, T0)[1]:
            wins.append(user)

    threads = [threading.Thread(target=claim, args=(f"U{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and store.get(C, "1.1").claimed_by == wins[0]


def test_due_work_is_leased_to_one_taker_and_comes_back_when_due(store):
    store.add(item("1.1"), lease_seconds=60)
    assert store.take_due(now=T0 + 30, lease_seconds=60) == []  # its first taker still holds it
    (taken,) = store.take_due(now=T0 + 61, lease_seconds=60)  # that taker was cut off
    assert taken.message_ts == "1.1"
    assert store.take_due(now=T0 + 62, lease_seconds=60) == []
    assert store.save_reply(taken, cards=[{"type": "divider"}], summary="Caller")
    assert store.save_reply_ts(taken, "2.2")
    assert store.finish(taken, stage=RETRY, next_attempt=T0 + 100)
    assert store.take_due(now=T0 + 99, lease_seconds=60) == []
    (again,) = store.take_due(now=T0 + 100, lease_seconds=60)
    assert (again.attempts, again.reply_ts, again.cards, again.stage) == (1, "2.2", [{"type": "divider"}], RETRY)
    assert store.lease(C, "1.1", now=T0 + 101, lease_seconds=60) is None  # a person's Look up waits its turn
    assert store.finish(again, stage=DONE, next_attempt=T0 + 100)
    assert store.take_due(now=T0 + 10_000, lease_seconds=60) == []
    added = store.add(item("1.2"), lease_seconds=0)
    assert added is not None and store.finish(added, stage=PAUSED, next_attempt=T0 + 20)
    assert [i.message_ts for i in store.take_due(now=T0 + 20, lease_seconds=60)] == ["1.2"]


def test_open_items_are_the_unresolved_ones_of_the_window_oldest_first(store):
    for ts, created in (("1.3", T0 + 30), ("1.1", T0 + 10), ("1.2", T0 + 20), ("1.0", T0 - 90_000)):
        store.add(item(ts, created), lease_seconds=0)
    store.act(C, "1.2", RESOLVE, "U0ANA", T0 + 40)
    assert [i.message_ts for i in store.open_items(C, T0)] == ["1.1", "1.3"]
    assert store.purge(T0) == 1 and store.get(C, "1.0") is None


def test_a_holder_whose_lease_was_taken_over_changes_nothing(store):
    """Fencing (issue 20): every write names the lease it was made under; a stale one is refused."""
    first = store.add(item("1.1"), lease_seconds=60)
    assert first is not None and store.renew(first, now=T0 + 50, lease_seconds=60)  # still working: kept
    assert store.take_due(now=T0 + 100, lease_seconds=60) == []
    (second,) = store.take_due(now=T0 + 111, lease_seconds=60)  # the first holder stopped renewing
    assert second.lease_id and second.lease_id != first.lease_id

    stale = (
        store.renew(first, now=T0 + 112, lease_seconds=60),
        store.save_reply(first, cards=[{"type": "divider", "block_id": "stale"}], summary="stale"),
        store.mark_posting(first, now=T0 + 112),
        store.save_reply_ts(first, "9.9"),
        store.finish(first, stage=DONE, next_attempt=T0 + 112),
    )
    assert stale == (False, False, False, False, False)
    untouched = store.get(C, "1.1")
    assert (untouched.cards, untouched.summary, untouched.posting_at, untouched.reply_ts, untouched.stage) == (
        None,
        "",
        None,
        None,
        "new",
    )
    assert untouched.lease_id == second.lease_id and untouched.attempts == 0

    assert store.save_reply(second, cards=[{"type": "divider"}], summary="Caller")
    assert store.mark_posting(second, now=T0 + 113)
    assert store.get(C, "1.1").posting_at == T0 + 113
    assert store.save_reply_ts(second, "2.2")
    store.save_shown(C, "1.1", reply_ts="2.2", digest="abc")
    store.save_shown(C, "1.1", reply_ts="7.7", digest="other")  # drawn on a reply that is not this item's: ignored
    assert store.finish(second, stage=DONE, next_attempt=T0 + 113)
    done = store.get(C, "1.1")
    assert (done.reply_ts, done.summary, done.stage, done.attempts, done.shown_digest) == (
        "2.2",
        "Caller",
        DONE,
        1,
        "abc",
    )
    assert store.renew(second, now=T0 + 114, lease_seconds=60) is False  # finished: the lease is given back
    assert store.lease(C, "1.1", now=T0 + 114, lease_seconds=60).lease_id not in (first.lease_id, second.lease_id)


def test_one_channels_thousand_due_items_do_not_delay_another_channels(store):
    """Fairness (issue 20): due items are served round-robin across channels, oldest first within each."""
    busy, quiet = "C0BUSY0001", "C0QUIET001"
    for n in range(1000):
        store.add(
            TriageItem(
                channel_id=busy,
                message_ts=f"1.{n:04d}",
                thread_ts="1.0",
                poster="U1",
                numbers=["2125558383"],
                created=T0 + n,
            ),
            lease_seconds=0,
        )
    store.add(
        TriageItem(
            channel_id=quiet,
            message_ts="2.0001",
            thread_ts="2.0001",
            poster="U1",
            numbers=["3125550142"],
            created=T0 + 5000,
        ),
        lease_seconds=0,
    )
    first = store.take_due(now=T0 + 10_000, lease_seconds=60, limit=20)
    assert len(first) == 20
    assert (quiet, "2.0001") in [(i.channel_id, i.message_ts) for i in first]
    busy_taken = [i.message_ts for i in first if i.channel_id == busy]
    assert busy_taken == [f"1.{n:04d}" for n in range(19)]  # the busy channel's oldest, in order
    second = store.take_due(now=T0 + 10_000, lease_seconds=60, limit=20)
    assert [i.message_ts for i in second] == [f"1.{n:04d}" for n in range(19, 39)]  # nothing taken twice


def test_the_open_summary_is_bounded_and_counts_the_rest(store):
    """`/caller triage` (issue 20): at most ``limit`` rows, oldest first, and how many are open in all."""
    for n in range(40):
        store.add(item(f"1.{n:02d}", T0 + n), lease_seconds=0)
    store.add(item("0.99", T0 - 90_000), lease_seconds=0)  # older than the window
    store.add(
        TriageItem(
            channel_id="C0OTHER001", message_ts="3.1", thread_ts="3.1", poster="U1", numbers=["2125558383"], created=T0
        ),
        lease_seconds=0,
    )
    store.act(C, "1.00", RESOLVE, "U0ANA", T0 + 50)
    store.act(C, "1.01", CLAIM, "U0ANA", T0 + 51)
    store.act(C, "1.01", FLAG, "U0BEN", T0 + 52)

    rows, total = store.open_summary(C, T0, limit=15)
    assert total == 39 and len(rows) == 15
    assert [r.message_ts for r in rows] == [f"1.{n:02d}" for n in range(1, 16)]
    first = rows[0]
    assert (first.claimed_by, first.claimed_at, first.flagged_by, first.flagged_at) == (
        "U0ANA",
        T0 + 51,
        "U0BEN",
        T0 + 52,
    )
    assert first.resolved_at is None and first.numbers == ["2125558383"] and first.created == T0 + 1
    assert store.open_summary("C0NOBODY01", T0, limit=15) == ([], 0)


def test_a_sqlite_file_made_before_the_lease_columns_gets_them_when_opened(tmp_path):
    import sqlite3

    from nextcaller_ops.stores.sqlite_triage import SCHEMA, SqliteTriageStore

    path = tmp_path / "triage.sqlite3"
    with sqlite3.connect(path) as db:  # the file as the first release left it, one item waiting in it
        for statement in SCHEMA:
            db.execute(statement)
        db.execute(
            "INSERT INTO triage_items (channel_id, message_ts, thread_ts, numbers, created, stage, reply_ts)"
            " VALUES (?, '1.1', '1.1', '[\"2125558383\"]', ?, 'retry', '2.2')",
            (C, T0),
        )
    opened: list[SqliteTriageStore] = []
    threads = [threading.Thread(target=lambda: opened.append(SqliteTriageStore(path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened) == 4  # several processes opening it at once: each finds the columns there
    store = opened[0]
    (taken,) = store.take_due(now=T0 + 1, lease_seconds=60)
    assert (taken.reply_ts, taken.lease_id is not None, taken.posting_at, taken.shown_digest) == (
        "2.2",
        True,
        None,
        None,
    )
    assert store.mark_posting(taken, now=T0 + 2) and store.finish(taken, stage=DONE, next_attempt=T0 + 2)
    for s in opened:
        s.close()
