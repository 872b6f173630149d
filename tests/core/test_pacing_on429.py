"""An API that names its limit only on its 429s (issue #25): the slow start, over real HTTP, alone and shared.

The sandbox's ``rate_limit_headers="on-429"``: answers within the limit carry no
``X-Rate-Limit-*``; a refusal names the limit.  The pacer runs on the real clock (the
sandbox's window is real time), so the assertions are about the mechanism — a
small first burst, then growth, then the rate the first 429 named — with bounds a
loaded machine keeps: the full 2,000-at-40/s measurement is in ``bench/issue25.py``.
"""

from __future__ import annotations

import threading
import time

import pytest

from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.rate.bucket import HEADROOM, SLOW_START_BURST
from nextcaller_ops.rate.pacer import TokenBucketPacer
from nextcaller_ops.rate.redis import RedisBucket
from nextcaller_ops.sandbox import Sandbox, synthetic_phone
from nextcaller_ops.stores.redis import SharedRedis, namespace

LIMIT = 30  # requests/s: the sandbox refuses beyond it
CONCURRENCY = 16  # the pool's width: what the first burst was before the slow start


class RecordingPacer(TokenBucketPacer):
    """The real pacer, noting when each request's slot is (the time it is sent)."""

    def __init__(self, sent: list[float], lock: threading.Lock, **kwargs):
        super().__init__(**kwargs)
        self.sent, self.sent_lock = sent, lock

    def wait(self) -> float | None:
        delay = super().wait()
        with self.sent_lock:
            self.sent.append(time.monotonic() + (delay or 0.0))
        return delay


def client_for(sb: Sandbox, sent: list[float], lock: threading.Lock, shared: RedisBucket | None = None):
    settings = load_settings(base_url=sb.url, cache_ttl=0, max_retries=5, max_retry_wait=2.0, timeout=60.0)
    pacer = RecordingPacer(sent, lock, shared=shared)
    creds = Credentials(sb.consumer_key, sb.consumer_secret, source="explicit")
    return NextCallerClient(creds, settings, pacer=pacer)


def bursts(sent: list[float], width: float = 0.025) -> list[int]:
    """Requests sent in each ``width`` seconds from the first."""
    start = min(sent)
    counts = [0] * (int((max(sent) - start) / width) + 1)
    for t in sent:
        counts[int((t - start) / width)] += 1
    return counts


def assert_slow_start_then_settled(sent: list[float], refused: int, states: list) -> None:
    counts = bursts(sent)
    assert counts[0] <= SLOW_START_BURST + 3, counts  # not the pool's width (16) at once
    assert max(counts[1:20]) > counts[0], counts  # it grew
    # Refused: the slots already handed out when the first 429 came back (a pool's width at most, each process).
    assert refused <= CONCURRENCY * len(states) + 8, refused
    for state in states:  # the first 429 named the limit: paced below it, not cut
        assert (state.limit, state.limit_source) == (LIMIT, "api") and state.rate == pytest.approx(LIMIT * HEADROOM)
    # Settled: after the pause the 429 asked for (the API's window full), no second in which more than the
    # limit were sent (the slots are the bucket's arithmetic: when each request was let go).
    slots = sorted(sent)
    pause = max(range(1, len(slots)), key=lambda i: slots[i] - slots[i - 1])
    assert slots[pause] - slots[pause - 1] > 0.5, counts
    after = slots[pause:]
    assert max(sum(1 for t in after if a <= t < a + 1.0) for a in after) <= LIMIT


@pytest.fixture
def on_429_sandbox():
    with Sandbox(records=200, latency_ms=20, rate_limit=LIMIT, rate_limit_headers="on-429") as sb:
        yield sb


def test_the_sandbox_names_its_limit_only_on_429s(on_429_sandbox):
    sent: list[float] = []
    client = client_for(on_429_sandbox, sent, threading.Lock())
    with client:
        answer = client.transport.request("GET", "records/", params={"phone": synthetic_phone(0), "format": "json"})
    assert answer.status_code == 200 and not [h for h in answer.headers if h.lower().startswith("x-rate-limit")]


def test_one_process_slow_starts_and_settles_at_the_first_429s_limit(on_429_sandbox):
    sent: list[float] = []
    client = client_for(on_429_sandbox, sent, threading.Lock())
    numbers = [synthetic_phone(i) for i in range(90)]
    with client:
        items = client.lookup_many(numbers, concurrency=CONCURRENCY)
        state = client.pacer.state()
    assert all(item.status == "found" for item in items)  # every number found
    assert_slow_start_then_settled(sent, on_429_sandbox.httpd.refused, [state])


def test_two_processes_share_one_slow_start_through_redis(on_429_sandbox, redis_space):
    sent: list[float] = []
    lock = threading.Lock()
    ns = namespace(on_429_sandbox.url, on_429_sandbox.consumer_key)
    clients = [
        client_for(on_429_sandbox, sent, lock, RedisBucket(SharedRedis(redis_space.url, redis_space.prefix), ns))
        for _ in range(2)
    ]
    results: dict[int, list] = {}

    def run(k: int) -> None:
        results[k] = clients[k].lookup_many(
            [synthetic_phone(i) for i in range(k * 45, k * 45 + 45)], concurrency=CONCURRENCY
        )

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    states = [c.pacer.state() for c in clients]
    for c in clients:
        c.close()
    assert all(item.status == "found" for k in range(2) for item in results[k])
    assert all(s.shared for s in states)
    assert_slow_start_then_settled(sent, on_429_sandbox.httpd.refused, states)
