"""The pacer in the client, over real HTTP to the sandbox: the rate set, the limit learned, 429s, recovery.

Each client gets a pacer on a fake clock (frozen unless a test moves it) and a
``sleep`` that records: the waits are the bucket's arithmetic, never the time.
"""

from __future__ import annotations

import pytest

from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.rate.bucket import DECREASE, HEADROOM, RECOVERY, SLOW_START_BURST, SLOW_START_SPAN
from nextcaller_ops.rate.pacer import TokenBucketPacer, pacer_for
from nextcaller_ops.sandbox import Sandbox, synthetic_phone


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def paced_client(sb: Sandbox, clock: Clock, max_rps: float | None = None) -> tuple[NextCallerClient, list[float]]:
    slept: list[float] = []
    settings = load_settings(base_url=sb.url, cache_ttl=0, max_rps=max_rps)
    pacer = TokenBucketPacer(max_rps=settings.max_rps, clock=clock)
    creds = Credentials(sb.consumer_key, sb.consumer_secret, source="explicit")
    return NextCallerClient(creds, settings, sleep=slept.append, pacer=pacer), slept


@pytest.fixture
def limited_sandbox():
    with Sandbox(records=20, rate_limit=1000) as sb:  # sends X-Rate-Limit-* but never refuses here
        yield sb


def test_max_rps_spaces_the_requests_through_the_transports_sleep(sandbox):
    clock = Clock()
    client, slept = paced_client(sandbox, clock, max_rps=5)
    with client:
        for i in range(3):
            client.lookup(synthetic_phone(i))
        assert slept == [pytest.approx(0.2), pytest.approx(0.4)]  # the clock stood still: each slot 1/5 s on
        state = client.pacer.state()
    assert state.rate == 5 and state.max_rps == 5 and state.limit is None


def test_max_rps_comes_from_the_environment():
    settings = load_settings(env={"NEXTCALLER_OPS_MAX_RPS": "7.5"}, base_url="http://127.0.0.1:9")
    pacer = pacer_for(settings, Credentials("K-ENV-RPS", "s", source="explicit"))
    assert pacer.max_rps == 7.5 and pacer.state().rate == 7.5


def test_open_until_the_api_names_its_limit_then_paced_below_it(limited_sandbox):
    clock = Clock()
    client, slept = paced_client(limited_sandbox, clock)
    with client:
        assert client.pacer.state().rate is None  # nothing known, nothing sent
        client.lookup(synthetic_phone(0))
        state = client.pacer.state()
        assert (state.limit, state.limit_source) == (1000, "api") and state.rate == pytest.approx(1000 * HEADROOM)
        # the request already sent this second counts against the limit: the next slot waits for it
        client.lookup(synthetic_phone(1))
    assert slept == [pytest.approx(1 / (1000 * HEADROOM))]


def test_a_429_backs_off_and_the_rate_recovers(limited_sandbox):
    clock = Clock()
    client, slept = paced_client(limited_sandbox, clock)
    with client:
        client.lookup(synthetic_phone(0))
        limited_sandbox.inject(429, code=1061, retry_after="1")
        assert client.lookup(synthetic_phone(1)).found  # retried after the Retry-After
        assert 1.0 in slept  # the refused request waited as the API asked
        state = client.pacer.state()
        assert state.factor == pytest.approx(DECREASE) and state.rate == pytest.approx(1000 * HEADROOM * DECREASE)
        clock.now += 2
        assert client.pacer.state().factor == pytest.approx(DECREASE + 2 * RECOVERY)
        clock.now += 60
        assert client.pacer.state().rate == pytest.approx(1000 * HEADROOM)


def test_no_limit_sent_means_a_slow_start_then_no_pacing(sandbox):
    clock = Clock()
    client, slept = paced_client(sandbox, clock)
    with client:
        # the clock stands still: the slow start's slots only (a burst at once, then spaced)
        client.lookup_many([synthetic_phone(i) for i in range(20)], concurrency=8)
        assert len(slept) == 20 - SLOW_START_BURST and client.pacer.state().rate is None  # no limit known
        clock.now += SLOW_START_SPAN + 0.01  # the slow start is over and no limit was named: open
        client.lookup_many([synthetic_phone(i) for i in range(20, 40)], concurrency=8)
        assert client.pacer.state().rate is None
    assert len(slept) == 20 - SLOW_START_BURST


def test_one_pacer_per_consumer_key_and_api():
    settings = load_settings(base_url="http://127.0.0.1:9")
    other_api = load_settings(base_url="http://127.0.0.1:10")
    one, two = Credentials("K-ONE", "s", source="explicit"), Credentials("K-TWO", "s", source="explicit")
    assert pacer_for(settings, one) is pacer_for(settings, Credentials("K-ONE", "s2", source="env"))
    assert pacer_for(settings, one) is not pacer_for(settings, two)
    assert pacer_for(settings, one) is not pacer_for(other_api, one)


def test_what_this_process_sent_in_the_last_second_counts_when_the_limit_is_learned(limited_sandbox):
    # The first answer read may be the one the API counted first (its window still empty): the requests
    # this process has sent this second are spent all the same.
    clock = Clock()
    client, slept = paced_client(limited_sandbox, clock)
    with client:
        limited_sandbox.httpd.rate_limit = 0  # no headers yet
        for i in range(5):
            client.lookup(synthetic_phone(i))
        limited_sandbox.httpd.rate_limit = 1000  # this answer: "999 remaining"
        client.lookup(synthetic_phone(5))
        client.lookup(synthetic_phone(6))
    # the slow start's own slots first (its burst, then spaced); then every request it let through is spent
    assert len(slept) == 7 - SLOW_START_BURST and slept[-1] == pytest.approx(6 / (1000 * HEADROOM))
