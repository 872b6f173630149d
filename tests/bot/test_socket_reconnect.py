"""Socket Mode reconnects back off across connections that die young (issue 20, defect 7).

Against a server that accepts each WebSocket and closes it at once, the bot used to call
``apps.connections.open`` hundreds of times a second.  The client here runs on a simulated clock
(its waits advance it, and nothing else does), so a minute of such a server takes a moment; one
test runs the real process on the wall clock.
"""

from __future__ import annotations

import threading

import pytest
from slack_sdk import WebClient

from bot.socket_mode.connection import SocketModeClient
from bot.socket_mode.reconnect import MAX_DELAY, STABLE_SECONDS, Reconnects
from bot.standin.socket_server import FakeSocketMode
from bot.standin.web_api import FakeSlack
from tests.support.socketkit import APP_TOKEN, SocketBot, socket_env, until

pytestmark = pytest.mark.timeout(120)


class SimulatedTime:
    """A monotonic clock that only the client's waits move; ``at_minute`` runs once a minute has gone."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.start = self.now
        self.waits: list[float] = []
        self.at_minute = lambda: None
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.now += seconds
            minute_over = self.now - self.start >= 60
        if minute_over:
            self.at_minute()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def stand_in():
    with FakeSlack() as slack, FakeSocketMode(slack, APP_TOKEN) as sm:
        yield slack, sm


def client_on(slack: FakeSlack, time: SimulatedTime) -> SocketModeClient:
    return SocketModeClient(APP_TOKEN, WebClient(base_url=slack.api_url), clock=time.clock, sleep=time.sleep)


def opens(slack: FakeSlack) -> int:
    return len(slack.calls("api", "apps.connections.open"))


def opened(client: SocketModeClient, count: int) -> None:
    """Wait until the client has opened ``count`` connections (and noted when, on its clock)."""
    until(lambda: client.connections_opened >= count, f"connection {count} opened by the client")


def test_a_server_that_closes_every_connection_gets_at_most_10_opens_in_its_first_minute(stand_in):
    slack, sm = stand_in
    sm.close_at_once = True
    time = SimulatedTime()
    client = client_on(slack, time)
    time.at_minute = client.close  # a minute has gone by: stop counting
    try:
        client.connect_to_new_endpoint()
        until(lambda: client.closed, "a simulated minute of reconnects", timeout=60)
    finally:
        client.close()
    assert 5 <= opens(slack) <= 10, (opens(slack), time.waits)  # it kept trying, slower and slower
    assert all(0 < w <= MAX_DELAY for w in time.waits)
    growing = time.waits[:5]  # each full wait doubles; jitter keeps each at least half of it
    assert growing == sorted(growing) and growing[-1] >= 4 * growing[0]
    assert all(lk.closed_by == "slack" for lk in sm.connections())


def test_after_a_connection_that_stayed_up_the_next_one_is_opened_at_once(stand_in):
    slack, sm = stand_in
    time = SimulatedTime()
    client = client_on(slack, time)
    try:
        client.connect_to_new_endpoint()
        (first,) = sm.wait_connections(1)
        opened(client, 1)
        time.advance(STABLE_SECONDS + 1)  # it stayed up: its loss is ordinary
        sm.drop(first.id)
        (second,) = sm.wait_connections(1, newer_than=first.id)
        assert time.waits == []  # no wait at all

        sm.drop(second.id)  # died young: a short wait first
        (third,) = sm.wait_connections(1, newer_than=second.id)
        assert len(time.waits) == 1 and 0.5 <= time.waits[0] <= 1.0
        opened(client, 3)
        time.advance(STABLE_SECONDS + 1)  # a good one again: the back-off starts over
        sm.drop(third.id)
        sm.wait_connections(1, newer_than=third.id)
        assert len(time.waits) == 1
    finally:
        client.close()
    assert opens(slack) == 4


def test_the_back_off_counts_failed_opens_and_honours_retry_after():
    time = SimulatedTime()
    reconnects = Reconnects(clock=time.clock, jitter=lambda: 1.0)
    assert reconnects.delay() == 0
    reconnects.failed()
    reconnects.failed()
    assert reconnects.delay() == 2.0
    reconnects.failed(at_least=45.0)  # Slack said ratelimited, Retry-After: 45
    assert reconnects.delay() == 45.0
    assert reconnects.delay() == 4.0  # Retry-After was for one attempt; the doubling goes on
    for _ in range(20):
        reconnects.failed()
    assert reconnects.delay() == MAX_DELAY
    reconnects.ended(opened_at=time.now - STABLE_SECONDS)
    assert reconnects.delay() == 0


def test_the_bot_process_against_a_server_that_closes_at_once_backs_off_then_recovers(stand_in, sandbox, tmp_path):
    slack, sm = stand_in
    bot = SocketBot(socket_env(sandbox, slack, tmp_path / "bot"), sm, tmp_path / "bot.err")
    try:
        before = opens(slack)
        sm.close_at_once = True
        sm.drop(bot.link.id)
        window = threading.Event()
        window.wait(4.0)  # four seconds of the wall clock: waits of about 0.5-1, 1-2, 2-4 s
        assert opens(slack) - before <= 5, opens(slack) - before  # was hundreds
        assert bot.proc.poll() is None  # still trying

        sm.close_at_once = False  # the server is well again: the bot is back after its current wait
        (link,) = sm.wait_connections(1, newer_than=bot.link.id, timeout=45)
        envelope = sm.command("2125558383", response_url=slack.response_url("after"), connection=link.id)
        sm.wait_ack(envelope)
        assert bot.terminate() == 0
    finally:
        bot.stop()
    assert "Traceback" not in bot.stderr()
