"""batch.iter_lookup_many over a fake lookup function: order, de-duplication, back-pressure, no HTTP.

The fakes hold their calls on threading primitives the test controls, so completion order and
what is in flight are decided by the test, never by how long something takes.
"""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from nextcaller_ops import errors
from nextcaller_ops.api.models import LookupResult, Profile
from nextcaller_ops.api.phone import PhoneInput
from nextcaller_ops.client.fanout import iter_lookup_many
from nextcaller_ops.sandbox import synthetic_phone
from tests.support.common import PATIENCE

WAIT = PATIENCE  # seconds before a test gives up on an event that should come (a hang, not a timing)
MISSING = "2025550999"


def _found(parsed: PhoneInput) -> LookupResult:
    if parsed.number == MISSING:
        return LookupResult(parsed.number, ())
    return LookupResult(parsed.number, (Profile(id=parsed.number * 3, first_name=parsed.number),))


class Recorder:
    """A lookup that answers at once and counts its calls per number."""

    def __init__(self, fail: dict[str, BaseException] | None = None):
        self.calls: Counter[str] = Counter()
        self.refresh: list[bool] = []
        self.fail = fail or {}
        self._lock = threading.Lock()

    def __call__(self, parsed: PhoneInput, refresh: bool) -> LookupResult:
        with self._lock:
            self.calls[parsed.number] += 1
            self.refresh.append(refresh)
        if parsed.number in self.fail:
            raise self.fail[parsed.number]
        return _found(parsed)


def _run(lookup, phones, **kw):
    kw.setdefault("concurrency", 4)
    kw.setdefault("memo_size", 100)
    kw.setdefault("refresh", False)
    return list(iter_lookup_many(lookup, phones, **kw))


def test_results_come_in_input_order_whatever_order_lookups_finish_in():
    numbers = [synthetic_phone(i) for i in range(40)]
    picker = random.Random(1234)
    cond = threading.Condition()
    running: list[str] = []
    released: set[str] = set()
    finished: list[str] = []
    stop = False

    def lookup(parsed: PhoneInput, refresh: bool) -> LookupResult:
        with cond:
            running.append(parsed.number)
            cond.notify_all()
            assert cond.wait_for(lambda: parsed.number in released, timeout=WAIT)
            finished.append(parsed.number)
        return _found(parsed)

    def release_in_random_order() -> None:
        # Lets one of the calls in flight finish, chosen at random, until the batch is over.
        with cond:
            while not stop:
                if cond.wait_for(lambda: stop or running, timeout=WAIT) and running:
                    released.add(running.pop(picker.randrange(len(running))))
                    cond.notify_all()

    releaser = threading.Thread(target=release_in_random_order)
    releaser.start()
    try:
        items = _run(lookup, numbers, concurrency=4)
    finally:
        with cond:
            stop = True
            cond.notify_all()
        releaser.join(WAIT)
    assert finished != numbers  # the lookups really did finish out of order
    assert [i.index for i in items] == list(range(40))
    assert [i.phone for i in items] == numbers
    assert [i.profiles[0].first_name for i in items] == numbers


def test_a_repeated_number_is_looked_up_once_and_marked_duplicate():
    lookup = Recorder()
    inputs = ["2125558383", "3125550142", "(212) 555-8383", "212.555.8383", "3125550142"]
    items = _run(lookup, inputs)
    assert lookup.calls == {"2125558383": 1, "3125550142": 1}
    assert [i.duplicate for i in items] == [False, False, True, True, True]
    assert [i.input for i in items] == inputs and [i.index for i in items] == [0, 1, 2, 3, 4]
    assert items[2].result is items[0].result and items[4].result is items[1].result
    assert {i.status for i in items} == {"found"}


def test_the_memo_keeps_the_last_memo_size_distinct_numbers():
    a, b, c = (synthetic_phone(i) for i in range(3))
    forgotten = Recorder()
    _run(forgotten, [a, b, c, a], memo_size=2, concurrency=1)
    assert forgotten.calls[a] == 2  # a was pushed out by c
    kept = Recorder()
    _run(kept, [a, b, a, c, a], memo_size=2, concurrency=1)
    assert kept.calls[a] == 1  # asking again keeps a number fresh; b went instead


def test_refresh_is_passed_to_each_lookup():
    lookup = Recorder()
    _run(lookup, ["2125558383", "3125550142", "2125558383"], refresh=True)
    assert lookup.refresh == [True, True]


def test_invalid_inputs_are_rows_that_cost_no_call():
    lookup = Recorder()
    inputs = ["bogus", "", "212-555-83", "2125558383", "+44 20 7946 0958"]
    items = _run(lookup, inputs)
    assert [i.status for i in items] == ["invalid", "invalid", "invalid", "found", "invalid"]
    invalid = [i for i in items if i.status == "invalid"]
    assert all(i.phone is None and isinstance(i.error, errors.InvalidPhoneError) for i in invalid)
    assert all(i.profiles == () and not i.duplicate for i in invalid)
    assert lookup.calls == {"2125558383": 1}


def test_errors_are_reported_per_item_and_shared_by_duplicates():
    refused = errors.RateLimitError("slow down", retry_after=3.0, status=429)
    lookup = Recorder(fail={"3125550142": refused})
    items = _run(lookup, ["2125558383", "3125550142", MISSING, "312 555 0142"])
    assert [i.status for i in items] == ["found", "error", "not_found", "error"]
    assert items[1].error is refused and items[3].error is refused and items[3].duplicate
    assert items[1].result is None and items[1].profiles == ()
    assert lookup.calls["3125550142"] == 1


def test_an_unexpected_exception_is_not_turned_into_a_row():
    lookup = Recorder(fail={"3125550142": KeyError("a bug")})
    with pytest.raises(KeyError):
        _run(lookup, ["2125558383", "3125550142"])


@pytest.mark.parametrize(("concurrency", "window"), [(2, None), (3, 5), (4, 2)])
def test_never_more_than_window_inputs_ahead_of_the_consumer(concurrency, window):
    limit = max(concurrency, window or concurrency * 4)  # a window below the concurrency is raised to it
    first_blocked = threading.Event()
    filled = threading.Event()
    state = {"pulled": 0, "consumed": 0, "started": 0}
    ahead: list[int] = []
    started_ahead: list[int] = []
    lock = threading.Lock()

    def inputs():
        for i in range(60):
            state["pulled"] += 1
            ahead.append(state["pulled"] - state["consumed"])
            if state["pulled"] == limit:
                filled.set()
            yield synthetic_phone(i)

    def lookup(parsed: PhoneInput, refresh: bool) -> LookupResult:
        with lock:
            state["started"] += 1
            started_ahead.append(state["started"] - state["consumed"])
        if parsed.number == synthetic_phone(0):
            # The first answer waits until the batch has taken all the inputs it may hold.
            first_blocked.set()
            assert filled.wait(WAIT), "the batch stopped taking inputs before its window was full"
        return _found(parsed)

    items = iter_lookup_many(lookup, inputs(), concurrency=concurrency, window=window, memo_size=100, refresh=False)
    phones = []
    for item in items:
        phones.append(item.phone)
        state["consumed"] += 1
    assert first_blocked.is_set()
    assert phones == [synthetic_phone(i) for i in range(60)]
    assert max(ahead) == limit  # the window was used to the full, and never exceeded
    assert max(started_ahead) <= limit


def test_closing_early_cancels_the_rest_and_leaves_no_worker_running():
    numbers = [synthetic_phone(i) for i in range(20)]
    filled = threading.Event()
    release = threading.Event()
    three_started = threading.Event()
    lock = threading.Lock()
    started: list[str] = []
    workers: set[threading.Thread] = set()
    pulled: list[str] = []

    def inputs():
        for n in numbers:
            pulled.append(n)
            if len(pulled) == 8:
                filled.set()
            yield n

    def lookup(parsed: PhoneInput, refresh: bool) -> LookupResult:
        with lock:
            started.append(parsed.number)
            workers.add(threading.current_thread())
            if len(started) == 3:
                three_started.set()
        # The first answer comes once the window is full; the others only when the test says.
        assert (filled if parsed.number == numbers[0] else release).wait(WAIT)
        return _found(parsed)

    before = set(threading.enumerate())
    batch = iter_lookup_many(lookup, inputs(), concurrency=2, window=8, memo_size=100, refresh=False)
    assert next(batch).phone == numbers[0]
    assert three_started.wait(WAIT)  # numbers[1] and numbers[2] now hold both workers
    batch.close()
    release.set()
    new_threads = (set(threading.enumerate()) - before) | workers
    for thread in new_threads:
        thread.join(WAIT)
    assert not [t.name for t in new_threads if t.is_alive()]
    assert sorted(started) == sorted(numbers[:3])  # the five queued behind them never ran
    assert pulled == numbers[:8]  # and nothing past the window was read
