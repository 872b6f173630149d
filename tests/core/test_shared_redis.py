"""Shared state in the real Redis: the lookup cache, single-flight, the sliding window, Redis down.

Each test has a key prefix of its own (``redis_space``) and removes its keys.
Two clients in one test stand for two processes: they share nothing but Redis
(each has its own in-process cache and single-flight).
"""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from nextcaller_ops.api.models import LookupResult
from nextcaller_ops.cache.redis import RedisLookupCache
from nextcaller_ops.cache.shared_flight import SharedFlight
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.rate.redis import SlidingWindow
from nextcaller_ops.stores.redis import SharedRedis, check, namespace
from tests.support.common import PATIENCE, SEINFELD_ID


def make_client(sandbox, redis_url: str, prefix: str, **settings) -> NextCallerClient:
    """A client as a separate process would have one: its own memory, the shared Redis."""
    return NextCallerClient(
        Credentials(sandbox.consumer_key, sandbox.consumer_secret, source="explicit"),
        load_settings(base_url=sandbox.url, redis_url=redis_url, redis_prefix=prefix, max_retries=0, **settings),
        sleep=lambda s: None,
    )


@pytest.fixture
def two_clients(sandbox, redis_space):
    clients = [make_client(sandbox, redis_space.url, redis_space.prefix) for _ in range(2)]
    yield clients
    for c in clients:
        c.close()


def test_a_number_looked_up_by_one_process_is_served_to_another(two_clients, sandbox, redis_space):
    one, other = two_clients
    first = one.lookup("(212) 555-8383")
    second = other.lookup("212-555-8383")
    assert not first.cached and second.cached
    assert second.profiles == first.profiles and second.profiles[0].id == SEINFELD_ID
    assert sandbox.httpd.request_count == 1
    # namespaced by API and key, which the key names never show; the secret appears nowhere
    keys = redis_space.names()
    ns = namespace(one.settings.api_root, sandbox.consumer_key)
    assert f"{redis_space.prefix}:cache:{ns}:n:2125558383" in keys
    stored = redis_space.client.get(f"{redis_space.prefix}:cache:{ns}:n:2125558383").decode()
    assert sandbox.consumer_secret not in stored and all(sandbox.consumer_key not in k for k in keys)


def test_found_and_not_found_keep_todays_ttls_and_another_key_is_another_namespace(sandbox, redis_space):
    shared = SharedRedis(redis_space.url, redis_space.prefix)
    cache = RedisLookupCache(shared, "ns-a", ttl=300, miss_ttl=30)
    with make_client(sandbox, "", "nextcaller-ops") as plain:
        found = LookupResult("2125558383", plain.lookup("2125558383").profiles)
    cache.put(found)
    cache.put(LookupResult("2025550999", ()))
    ttl = lambda phone: redis_space.client.pttl(f"{redis_space.prefix}:cache:ns-a:n:{phone}")  # noqa: E731
    assert 290_000 < ttl("2125558383") <= 300_000 and 20_000 < ttl("2025550999") <= 30_000
    assert cache.get("2125558383") == found and cache.get("2025550999") == LookupResult("2025550999", ())
    assert RedisLookupCache(shared, "ns-b").get("2125558383") is None  # another account sees nothing
    assert len(cache) == 2 and cache.clear() == 2 and cache.get("2125558383") is None
    shared.close()


def test_a_correction_through_one_process_drops_the_number_for_every_process(two_clients, sandbox):
    one, other = two_clients
    one.lookup("2125558383")
    assert other.lookup("2125558383").cached
    other.update_profile(SEINFELD_ID, {"first_name": "Jerome"})
    again = one.lookup("2125558383")
    assert not again.cached and again.profiles[0].first_name == "Jerome"


def test_processes_asking_at_once_make_one_request(sandbox, redis_space):
    """Four clients (own memory, own in-process single-flight), the cache off: only the flight dedupes."""
    clients = [make_client(sandbox, redis_space.url, redis_space.prefix, cache_ttl=0) for _ in range(4)]
    sandbox.latency_ms = 1500  # the window in which the other three reach the flight: wide, for a busy machine
    gate = threading.Barrier(len(clients))
    results: list[LookupResult] = []

    def ask(client: NextCallerClient) -> None:
        gate.wait()
        results.append(client.lookup("2125558383"))

    threads = [threading.Thread(target=ask, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    assert sandbox.httpd.request_count == 1
    assert len(results) == 4 and {r.profiles[0].id for r in results} == {SEINFELD_ID}
    assert sorted(r.cached for r in results) == [False, True, True, True]
    # no cache entries (the flight's keys, and the API pacing's bucket)
    assert all(":flight:" in k or ":pace:" in k for k in redis_space.names())


def test_waiters_take_over_when_the_holder_died(redis_space):
    """A lock whose holder is gone (no answer, lock expiring): one waiter takes it and fetches."""
    shared = SharedRedis(redis_space.url, redis_space.prefix)
    flight = SharedFlight(shared, "ns", lock_seconds=0.5, poll_seconds=0.01)
    redis_space.client.set(f"{redis_space.prefix}:flight:ns:2125558383", "dead-holder", px=300)
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        return "answer"

    value, fetched = flight.run("2125558383", fetch, encode=str, decode=bytes.decode)
    assert (value, fetched, len(calls)) == ("answer", True, 1)
    # it fetched as the new holder of the lock: its answer is there for other waiters
    (answer,) = [k for k in redis_space.names() if k.startswith(f"{redis_space.prefix}:flight:ns:2125558383:")]
    assert redis_space.client.get(answer) == b"answer" and not answer.endswith("dead-holder")
    shared.close()


def test_when_the_holder_fails_each_waiter_asks_for_itself(redis_space):
    shared = SharedRedis(redis_space.url, redis_space.prefix)
    flight = SharedFlight(shared, "ns", lock_seconds=5, poll_seconds=0.01)
    holding, release = threading.Event(), threading.Event()

    def failing() -> str:
        holding.set()
        release.wait(PATIENCE)
        raise RuntimeError("the API said no")

    outcome: list[object] = []

    def hold() -> None:
        try:
            flight.run("k", failing, encode=str, decode=bytes.decode)
        except RuntimeError as exc:
            outcome.append(exc)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(PATIENCE)
    waiter = threading.Thread(
        target=lambda: outcome.append(flight.run("k", lambda: "mine", encode=str, decode=bytes.decode))
    )
    waiter.start()
    release.set()
    holder.join()
    waiter.join()
    assert ("mine", True) in outcome and any(isinstance(o, RuntimeError) for o in outcome)
    shared.close()


def test_the_sliding_window_holds_across_processes(redis_space):
    windows = [SlidingWindow(SharedRedis(redis_space.url, redis_space.prefix), "bot", limit=3, window=60) for _ in "ab"]
    assert [windows[i % 2].hit("U1") for i in range(3)] == [0.0, 0.0, 0.0]
    wait = windows[1].hit("U1")
    assert wait is not None and 55 < wait <= 60
    assert windows[0].hit("U2") == 0.0  # per user
    assert SlidingWindow(windows[0].shared, "bot", limit=0, window=60).hit("U1") == 0.0  # 0: no limit


def test_redis_down_lookups_still_work_logged_once_and_status_says_so(sandbox, caplog):
    """A Redis that refuses connections, then one that accepts and never answers: neither holds a lookup up."""
    refusing = socket.socket()
    refusing.bind(("127.0.0.1", 0))
    port = refusing.getsockname()[1]
    refusing.close()
    silent = socket.socket()  # accepts (the kernel's backlog) and never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        for url in (f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="nextcaller_ops.redis"):
                with make_client(sandbox, url, f"down-{port}") as client:
                    before = sandbox.httpd.request_count
                    for _ in range(3):
                        assert client.lookup("2125558383").profiles[0].id == SEINFELD_ID
                    assert client._shared.cache.shared.available is False
                # the process's own memory stood in for Redis: one request, not three
                assert sandbox.httpd.request_count == before + 1
            assert sum("Redis unavailable" in r.getMessage() for r in caplog.records) == 1
            report = check(url)
            assert report["ok"] is False and "not reachable" in report["error"]
    finally:
        silent.close()


def test_check_reports_a_live_redis(redis_space):
    report = check(redis_space.url, redis_space.prefix)
    assert report["ok"] is True and report["version"] and report["prefix"] == redis_space.prefix


_ASKER = """
import sys
from nextcaller_ops.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
url, key, secret, redis_url, prefix = sys.argv[1:]
settings = load_settings(base_url=url, redis_url=redis_url, redis_prefix=prefix, cache_ttl=0, max_retries=0)
with NextCallerClient(Credentials(key, secret, source="explicit"), settings) as nc:
    print("ready", flush=True)
    sys.stdin.readline()  # go
    result = nc.lookup("2125558383")
    print(result.profiles[0].id, "cached" if result.cached else "fetched", flush=True)
"""


def test_real_processes_asking_at_once_make_one_request(sandbox, redis_space):
    """Four Python processes, the cache off, released together: one API request between them."""
    import subprocess
    import sys

    from tests.support.common import ROOT

    args = [sandbox.url, sandbox.consumer_key, sandbox.consumer_secret, redis_space.url, redis_space.prefix]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ASKER, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        for _ in range(4)
    ]
    try:
        assert [p.stdout.readline().strip() for p in procs] == ["ready"] * 4
        sandbox.latency_ms = 3000  # the holder's request is in flight while the others arrive, even on a busy machine
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        answers = sorted(p.communicate(timeout=PATIENCE)[0].strip() for p in procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert answers == sorted([f"{SEINFELD_ID} fetched"] + [f"{SEINFELD_ID} cached"] * 3)
    assert sandbox.httpd.request_count == 1
