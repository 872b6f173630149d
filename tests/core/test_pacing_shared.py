"""Two clients pacing on one budget in the real Redis, and each on its own when Redis is down.

Two clients in one test stand for two processes: each has its own pacer and its
own Redis connection; they share only the key in Redis (``redis_space``: a prefix
of its own, removed after).  The clocks are fake and shared, so the waits handed
to each client's ``sleep`` are the script's arithmetic, not the time.
"""

from __future__ import annotations

import socket

import pytest

from nextcaller_ops import errors
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.rate.bucket import DECREASE, HEADROOM
from nextcaller_ops.rate.pacer import TokenBucketPacer
from nextcaller_ops.rate.redis import RedisBucket
from nextcaller_ops.sandbox import Sandbox, synthetic_phone
from nextcaller_ops.stores.redis import SharedRedis, namespace


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def process_like_client(sb: Sandbox, redis_url: str, prefix: str, clock: Clock, **settings):
    """A client as a separate process would have one: its own pacer and connection, the shared Redis."""
    creds = Credentials(sb.consumer_key, sb.consumer_secret, source="explicit")
    cfg = load_settings(base_url=sb.url, cache_ttl=0, max_retries=0, **settings)
    bucket = RedisBucket(SharedRedis(redis_url, prefix), namespace(sb.url, sb.consumer_key))
    pacer = TokenBucketPacer(max_rps=cfg.max_rps, shared=bucket, clock=clock, shared_clock=clock)
    slept: list[float] = []
    return NextCallerClient(creds, cfg, sleep=slept.append, pacer=pacer), slept, bucket


def test_two_clients_share_one_budget_through_redis(redis_space):
    clock = Clock()
    with Sandbox(records=20, rate_limit=1000) as sb:
        one, one_slept, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        two, two_slept, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        with one, two:
            for i in range(3):
                one.lookup(synthetic_phone(i))
            for i in range(3, 5):
                two.lookup(synthetic_phone(i))
            state = two.pacer.state()
    slot = 1 / (1000 * HEADROOM)
    # one learned the limit (its first request already spent), then took slots 1 and 2; two, which had
    # learned nothing itself, was handed slots 3 and 4 of the same budget
    assert one_slept == [pytest.approx(slot), pytest.approx(2 * slot)]
    assert two_slept == [pytest.approx(3 * slot), pytest.approx(4 * slot)]
    assert state.shared and (state.limit, state.limit_source) == (1000, "api")
    assert [k.split(":")[1] for k in redis_space.names()] == ["pace"]
    assert redis_space.client.pttl(redis_space.names()[0]) > 0  # the bucket expires when no one uses it


def test_max_rps_is_shared_too(redis_space):
    clock = Clock()
    with Sandbox(records=20) as sb:
        clients = [process_like_client(sb, redis_space.url, redis_space.prefix, clock, max_rps=4) for _ in range(2)]
        for i in range(4):
            client, _, _ = clients[i % 2]
            client.lookup(synthetic_phone(i))
        for client, _, _ in clients:
            client.close()
    assert clients[0][1] == [pytest.approx(0.5)] and clients[1][1] == [pytest.approx(0.25), pytest.approx(0.75)]


def test_a_429_seen_by_one_slows_the_other(redis_space):
    clock = Clock()
    with Sandbox(records=20, rate_limit=1000) as sb:
        one, _, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        two, _, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        with one, two:
            one.lookup(synthetic_phone(0))
            two.lookup(synthetic_phone(1))
            sb.inject(429, code=1061, retry_after="0")
            with pytest.raises(errors.RateLimitError):
                one.lookup(synthetic_phone(2))  # max_retries=0: the 429 is the answer
            assert two.pacer.state().factor == pytest.approx(DECREASE)  # two saw no 429 itself


def test_redis_down_paces_in_this_process(sandbox):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    s.close()
    clock = Clock()
    client, slept, _ = process_like_client(sandbox, dead, "nco-test-down", clock, max_rps=10)
    with client:
        for i in range(3):
            client.lookup(synthetic_phone(i))
        state = client.pacer.state()
    assert slept == [pytest.approx(0.1), pytest.approx(0.2)]  # still paced, by this process's own bucket
    assert state.redis_down and not state.shared and state.rate == 10


def test_two_processes_share_one_slow_start_and_what_it_let_through_is_charged(redis_space):
    clock = Clock()
    with Sandbox(records=20, rate_limit=1000) as sb:
        one, _, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        two, two_slept, _ = process_like_client(sb, redis_space.url, redis_space.prefix, clock)
        with one, two:
            assert not one.pacer.wait() and not two.pacer.wait()  # one slow start, its burst: a slot each
            one.lookup(synthetic_phone(0))  # the burst's third; its answer names the limit: 3 spent
            two.lookup(synthetic_phone(1))  # paced now: after the 3
            two.lookup(synthetic_phone(2))
    slot = 1 / (1000 * HEADROOM)
    assert two_slept == [pytest.approx(3 * slot), pytest.approx(4 * slot)]
