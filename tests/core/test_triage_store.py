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
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.add(item("1.1"), lease_seconds=60))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
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
    store.save_reply(C, "1.1", cards=[{"type": "divider"}], summary="Caller", reply_ts="2.2")
    store.finish(C, "1.1", stage=RETRY, next_attempt=T0 + 100)
    assert store.take_due(now=T0 + 99, lease_seconds=60) == []
    (again,) = store.take_due(now=T0 + 100, lease_seconds=60)
    assert (again.attempts, again.reply_ts, again.cards, again.stage) == (1, "2.2", [{"type": "divider"}], RETRY)
    assert store.lease(C, "1.1", now=T0 + 101, lease_seconds=60) is None  # a person's Look up waits its turn
    store.finish(C, "1.1", stage=DONE, next_attempt=T0 + 100)
    assert store.take_due(now=T0 + 10_000, lease_seconds=60) == []
    store.add(item("1.2"), lease_seconds=0)
    store.finish(C, "1.2", stage=PAUSED, next_attempt=T0 + 20)
    assert [i.message_ts for i in store.take_due(now=T0 + 20, lease_seconds=60)] == ["1.2"]


def test_open_items_are_the_unresolved_ones_of_the_window_oldest_first(store):
    for ts, created in (("1.3", T0 + 30), ("1.1", T0 + 10), ("1.2", T0 + 20), ("1.0", T0 - 90_000)):
        store.add(item(ts, created), lease_seconds=0)
    store.act(C, "1.2", RESOLVE, "U0ANA", T0 + 40)
    assert [i.message_ts for i in store.open_items(C, T0)] == ["1.1", "1.3"]
    assert store.purge(T0) == 1 and store.get(C, "1.0") is None
