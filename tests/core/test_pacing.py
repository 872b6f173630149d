"""The pacing bucket's arithmetic with a fake clock, in this process and in the real Redis (one scenario, both).

``now`` is handed in: the Redis script takes it as an argument when it is not 0
(in production 0: the server's own clock), so nothing here waits or reads the time.
"""

from __future__ import annotations

import itertools

import pytest

from nextcaller_ops.rate.bucket import (
    COOLDOWN,
    DECREASE,
    HEADROOM,
    RECOVERY,
    SLOW_START_BURST,
    SLOW_START_DOUBLING,
    SLOW_START_IDLE,
    SLOW_START_RATE,
    SLOW_START_SPAN,
    LocalBucket,
)
from nextcaller_ops.rate.pacer import parse_limit
from nextcaller_ops.rate.redis import RedisBucket
from nextcaller_ops.stores.redis import SharedRedis

T0 = 1000.0  # the fake clock's start (any number but 0, which tells the script to read the server's)


@pytest.fixture(params=["local", "redis"])
def make_bucket(request):
    """A factory of fresh buckets: in this process, or sharing one key in the test Redis."""
    if request.param == "local":
        yield LocalBucket
        return
    space = request.getfixturevalue("redis_space")
    shared = SharedRedis(space.url, space.prefix)
    names = iter(range(1000))
    yield lambda: RedisBucket(shared, f"bucket{next(names)}")
    shared.close()


def takes(bucket, now: float, n: int, max_rps: float = 0.0, hint: float = 0.0) -> list[float]:
    return [round(bucket.take(now, max_rps, hint)[0], 6) for _ in range(n)]


def granted(bucket, start: float, until: float) -> list[float]:
    """The slots a pool that always has a request waiting is given from ``start`` to ``until`` (one take per slot)."""
    slots: list[float] = []
    while True:
        wait, rate = bucket.take(slots[-1] if slots else start, 0.0, 0.0)
        at = (slots[-1] if slots else start) + wait
        if at >= until:
            return slots
        slots.append(at)
        if rate == 0:  # open: nothing paces any more
            return slots


def test_with_no_limit_known_a_slow_start_begins_small_and_doubles(make_bucket):
    bucket = make_bucket()
    # the first SLOW_START_BURST go at once, then one every 1/SLOW_START_RATE s, the rate doubling
    first = [bucket.take(T0, 0.0, 0.0) for _ in range(SLOW_START_BURST + 1)]
    assert [w for w, _ in first[:SLOW_START_BURST]] == [0.0] * SLOW_START_BURST
    assert first[-1][0] > 0 and first[0][1] == pytest.approx(SLOW_START_RATE)
    # a pool always ready: how many slots each doubling period grants, from the start
    bucket = make_bucket()
    slots = granted(bucket, T0, T0 + 5 * SLOW_START_DOUBLING)
    per_period = [
        sum(1 for t in slots if T0 + i * SLOW_START_DOUBLING <= t < T0 + (i + 1) * SLOW_START_DOUBLING)
        for i in range(5)
    ]
    first = SLOW_START_BURST + SLOW_START_RATE * SLOW_START_DOUBLING * 1.5
    assert per_period[0] <= first  # a small first burst, not the pool's whole width
    assert all(b >= 1.6 * a for a, b in itertools.pairwise(per_period[1:]))  # it grows
    assert len(slots) < first * 2**5
    rate, limit, source, _ = bucket.state(T0 + 5 * SLOW_START_DOUBLING, 0.0)
    assert (rate, limit, source) == (0.0, 0.0, "")  # a slow start is no limit: none is reported


def test_the_slow_start_settles_at_the_limit_named_by_the_first_429(make_bucket):
    bucket = make_bucket()
    slots = granted(bucket, T0, T0 + 4 * SLOW_START_DOUBLING)
    refused_at = slots[-1] + 0.05  # the first refusal's answer, naming 40/s
    bucket.refused(refused_at, 0.0, 40.0, 0.0)
    rate, limit, source, factor = bucket.state(refused_at, 0.0)
    assert (limit, source, factor) == (40.0, "api", 1.0) and rate == pytest.approx(40 * HEADROOM)  # no cut: found
    # the API's window is full: the next slot waits a window's worth, then 40 × HEADROOM a second
    wait, paced = bucket.take(refused_at, 0.0, 0.0)
    assert wait == pytest.approx(40 / (40 * HEADROOM)) and paced == pytest.approx(40 * HEADROOM)
    # the rest of the burst's refusals (other threads, another process) are the same event
    bucket.refused(refused_at + 0.02, 0.0, 40.0, 0.0)
    assert bucket.state(refused_at + 0.02, 0.0)[3] == 1.0
    # and it stays settled: no second slow start
    assert bucket.take(refused_at + 60, 0.0, 0.0)[1] == pytest.approx(40 * HEADROOM)


def test_a_limit_on_the_first_answer_ends_the_slow_start(make_bucket):
    bucket = make_bucket()
    assert bucket.take(T0, 0.0, 0.0)[0] == 0.0
    bucket.learn(T0 + 0.05, 0.0, 50.0, 0.0, 1.0)
    assert bucket.take(T0 + 0.05, 0.0, 0.0) == (pytest.approx(1 / (50 * HEADROOM)), pytest.approx(50 * HEADROOM))
    assert bucket.state(T0 + 0.05, 0.0)[1:3] == (50.0, "api")


def test_a_429_without_a_limit_in_the_slow_start_estimates_from_what_it_sent(make_bucket):
    bucket = make_bucket()
    slots = granted(bucket, T0, T0 + 5 * SLOW_START_DOUBLING)
    bucket.refused(slots[-1], 0.0, 0.0, 0.0)  # the pacer counted nothing unpaced: the slow start's own count
    _, limit, source, _ = bucket.state(slots[-1], 0.0)
    assert source == "refusals" and len(slots) <= limit <= 1.35 * len(slots)  # about what it sent, not 1


def test_the_slow_start_opens_when_the_requests_stop_keeping_up_or_after_its_span(make_bucket):
    idle = make_bucket()
    idle.take(T0, 0.0, 0.0)
    idle.take(T0 + SLOW_START_IDLE + 0.2, 0.0, 0.0)  # a pool that cannot keep up (slow answers)
    assert idle.take(T0 + SLOW_START_IDLE + 0.2, 0.0, 0.0) == (0.0, 0.0)
    assert idle.state(T0 + 1, 0.0) == (0.0, 0.0, "", 1.0)
    busy = make_bucket()
    slots = granted(busy, T0, T0 + SLOW_START_SPAN + 0.1)
    assert slots[-1] == pytest.approx(T0 + SLOW_START_SPAN, abs=0.01)  # opened at the span's end
    assert busy.take(T0 + 10, 0.0, 0.0) == (0.0, 0.0)
    # an API without any limit loses only the span's start: far more than any pool's width by its end
    assert len(slots) > 1000


def test_max_rps_spaces_requests_evenly_and_an_idle_bucket_keeps_no_burst(make_bucket):
    bucket = make_bucket()
    assert takes(bucket, T0, 4, max_rps=10) == [0.0, 0.1, 0.2, 0.3]  # each thread its own slot
    assert takes(bucket, T0 + 0.25, 2, max_rps=10) == [0.15, 0.25]
    # idle for a minute: one request at once, the next a tenth of a second later (burst of one)
    assert takes(bucket, T0 + 60, 2, max_rps=10) == [0.0, 0.1]


def test_a_learned_limit_is_paced_at_its_headroom_and_what_was_spent_is_waited_out(make_bucket):
    bucket = make_bucket()
    bucket.learn(T0, 0.0, 50.0, 19.0, 4.0)  # the API allows 50/s; 19 sent unpaced here, 4 counted there so far
    rate = 50 * HEADROOM
    wait, paced = bucket.take(T0, 0.0, 0.0)
    assert paced == pytest.approx(rate) and wait == pytest.approx(19 / rate)
    assert bucket.state(T0, 0.0)[1:3] == (50.0, "api")
    # a second process that also started open adds its own unpaced requests; what the API counted is a floor
    bucket.learn(T0, 0.0, 50.0, 10.0, 25.0)
    assert bucket.take(T0, 0.0, 0.0)[0] == pytest.approx(30 / rate)
    bucket.learn(T0, 0.0, 50.0, 0.0, 45.0)
    assert bucket.take(T0, 0.0, 0.0)[0] == pytest.approx(45 / rate)
    bucket.learn(T0 + 60, 0.0, 20.0, 0.0, 0.0)  # a new limit is taken
    assert bucket.take(T0 + 60, 0.0, 0.0) == (0.0, pytest.approx(20 * HEADROOM))


def test_the_lower_of_max_rps_and_the_api_limit_wins(make_bucket):
    low, high = make_bucket(), make_bucket()
    for bucket in (low, high):
        bucket.learn(T0, 0.0, 50.0, 0.0, 0.0)
    assert low.take(T0, 10.0, 0.0)[1] == pytest.approx(10.0)
    assert high.take(T0, 100.0, 0.0)[1] == pytest.approx(50 * HEADROOM)


def test_a_429_cuts_the_rate_once_per_cooldown_and_it_recovers_slowly(make_bucket):
    bucket = make_bucket()
    bucket.learn(T0, 0.0, 100.0, 0.0, 0.0)
    full = 100 * HEADROOM
    bucket.refused(T0, 0.0, 100.0, 0.0)
    bucket.refused(T0 + COOLDOWN / 2, 0.0, 100.0, 0.0)  # the same burst of refusals: one event
    factor = bucket.state(T0 + COOLDOWN / 2, 0.0)[3]
    assert factor == pytest.approx(DECREASE + RECOVERY * COOLDOWN / 2)
    bucket.refused(T0 + COOLDOWN, 0.0, 100.0, 0.0)  # a second event
    cut_twice = (DECREASE + RECOVERY * COOLDOWN) * DECREASE
    assert bucket.state(T0 + COOLDOWN, 0.0)[3] == pytest.approx(cut_twice)
    # recovers by RECOVERY of the ceiling per second, never above it
    assert bucket.state(T0 + COOLDOWN + 2, 0.0)[0] == pytest.approx(full * (cut_twice + 2 * RECOVERY))
    assert bucket.state(T0 + 3600, 0.0)[0:4:3] == (pytest.approx(full), 1.0)


def test_a_429_with_no_limit_known_estimates_one_and_opens_again_once_recovered(make_bucket):
    bucket = make_bucket()
    bucket.refused(T0, 0.0, 0.0, 40.0)  # 40 requests sent in the last second, then a 429 without a limit
    rate, limit, source, _ = bucket.state(T0, 0.0)
    assert (limit, source) == (40.0, "refusals") and rate == pytest.approx(40 * DECREASE)
    back = (1 - DECREASE) / RECOVERY
    assert bucket.state(T0 + back / 2, 0.0)[0] > 40 * DECREASE
    assert bucket.state(T0 + back + 0.1, 0.0) == (0.0, 0.0, "", 1.0)  # open again: it was only an estimate


def test_a_429_under_max_rps_backs_off_from_it_without_inventing_a_limit(make_bucket):
    bucket = make_bucket()
    bucket.refused(T0, 5.0, 0.0, 40.0)
    rate, limit, _, _ = bucket.state(T0, 5.0)
    assert limit == 0.0 and rate == pytest.approx(5.0 * DECREASE)


def test_a_429_that_names_the_limit_teaches_it(make_bucket):
    bucket = make_bucket()
    bucket.refused(T0, 0.0, 30.0, 99.0)
    assert bucket.state(T0, 0.0)[0:3] == (pytest.approx(30 * HEADROOM * DECREASE), 30.0, "api")


@pytest.mark.parametrize(
    "value, expected",
    [("50", 50.0), (" 12.5", 12.5), ("50, 50;w=1", 50.0), ("", None), (None, None), ("lots", None), ("-3", None)],
)
def test_rate_limit_headers_are_read_leniently(value, expected):
    assert parse_limit(value) == expected
