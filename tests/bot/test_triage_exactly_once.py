"""Exactly one reply per watched message (issue 20): lookups slower than the lease, a worker cut off
between the post and saving its ts (kill -9), a post whose answer was lost, a holder that lost its lease.

Each "process" is a :class:`bot.triage.Triage` with store connections of its own, on SQLite and on
PostgreSQL; Slack is the local fake, the API the sandbox over HTTP.  Leases run on a fake clock, so
that no test depends on how fast a loaded machine renews them: lookups that outlast the lease take
15 s of it per answer, and the really slow sandbox holds its answer until that clock has moved past
two leases, each step only after a renewal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

from bot.triage import Triage, TriageWorker, service
from bot.triage.intake import Message
from nextcaller_ops.api.phone import parse
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.sandbox import synthetic_phone
from nextcaller_ops.stores import StoreUnavailableError, open_stores
from nextcaller_ops.stores.base import DONE
from tests.support.botkit import bot_settings, sandbox_client
from tests.support.common import PATIENCE, hold_requests, wait_until
from tests.support.secrets import BOT_TOKEN

pytestmark = pytest.mark.timeout(120)

WATCHED = "C0WATCHED1"
ROOT = Path(__file__).resolve().parents[2]


class Clock:
    """Wall-clock seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SlowAnswers:
    """The client, but each answer takes ``seconds`` on ``clock``; ``meanwhile()`` runs as it does."""

    def __init__(self, client, clock: Clock, seconds: float, meanwhile) -> None:
        self._client, self._clock, self._seconds, self._meanwhile = client, clock, seconds, meanwhile

    @property
    def cache(self):
        return self._client.cache

    def lookup(self, phone):
        result = self._client.lookup(phone)
        self._clock.advance(self._seconds)
        self._meanwhile()
        return result


class AnswerLost(WebClient):
    """Slack takes the post, but its answer never comes back (a dropped connection, a timeout)."""

    def chat_postMessage(self, **kwargs):
        super().chat_postMessage(**kwargs)
        raise SlackRequestError("the connection dropped before Slack answered")


class NeverSent(WebClient):
    """The process stops before its post reaches Slack."""

    def chat_postMessage(self, **kwargs):
        raise SlackRequestError("the connection dropped before the request was sent")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    url = request.getfixturevalue("pg_schema").url if request.param == "postgresql" else None
    return SimpleNamespace(name=request.param, data_dir=tmp_path / "stores", url=url)


@pytest.fixture
def process(backend, sandbox, slack, tmp_path):
    """``process(clock=…, wrap=…, web=…)``: a Triage as one bot process builds it, on the shared stores."""
    opened = []

    def make(*, clock=time.time, wrap=None, web: type[WebClient] = WebClient) -> Triage:
        stores = open_stores(backend.data_dir, database_url=backend.url)
        client = sandbox_client(sandbox)
        opened.append((stores, client))
        settings = bot_settings(
            tmp_path / "bot", slack.api_url, watch_channels=frozenset({WATCHED}), triage_retry_seconds=1.0
        )
        return Triage(
            settings,
            stores.triage,
            wrap(client) if wrap else client,
            web(token=BOT_TOKEN, base_url=slack.api_url),
            stores.audit,
            clock=clock,
        )

    yield make
    for stores, client in opened:
        stores.close()
        client.close()


def patient_client(sandbox, timeout: float) -> NextCallerClient:
    """A client for the sandbox that waits ``timeout`` s for an answer (the suite's waits 5 s)."""
    settings = load_settings(base_url=sandbox.url, max_retries=0, timeout=timeout)
    credentials = Credentials(sandbox.consumer_key, sandbox.consumer_secret, source="explicit", auth=settings.auth)
    return NextCallerClient(credentials, settings, sleep=lambda s: None)


def message(ts: str, numbers: list[str], thread_ts: str | None = None) -> Message:
    return Message(
        channel_id=WATCHED,
        ts=ts,
        thread_ts=thread_ts or ts,
        poster="U0CALLER01",
        numbers=[parse(n) for n in numbers],
        more=0,
    )


def posts(slack, thread_ts: str) -> list[dict]:
    return [
        {**c["args"], "ts": c["ts"]}
        for c in slack.calls("api", "chat.postMessage")
        if c.get("ts") and c["args"].get("thread_ts") == thread_ts
    ]


def run_until_answered(triage: Triage, message_ts: str):
    """Run ``triage``'s worker until the item has its reply's ts (it becomes due when the lease runs out)."""
    worker = TriageWorker(triage)

    def answered():
        worker.run_due()
        item = triage.store.get(WATCHED, message_ts)
        return item if item is not None and item.reply_ts and item.stage == DONE else None

    return wait_until(answered, what=f"reply ts and stage done for the item {message_ts}", interval=0.05)


# -- lookups that outlast the lease ---------------------------------------------------------------


def test_five_numbers_at_15_s_an_answer_keep_the_lease_and_get_one_reply(process, slack, sandbox):
    clock = Clock()
    other = process(clock=clock)  # another process's worker, polling while the lookups run
    other_worker = TriageWorker(other)
    taken_meanwhile: list[int] = []
    first = process(
        clock=clock, wrap=lambda c: SlowAnswers(c, clock, 15.0, lambda: taken_meanwhile.append(other_worker.run_due()))
    )
    ts = slack.new_ts()
    numbers = [synthetic_phone(i) for i in range(5)]  # 75 s of lookups against a 60 s lease

    assert first.handle(message(ts, numbers))

    assert taken_meanwhile == [0] * 5  # the lease was renewed between the answers: nobody took it over
    (reply,) = posts(slack, ts)
    item = first.store.get(WATCHED, ts)
    assert (item.reply_ts, item.stage, item.attempts) == (reply["ts"], DONE, 1)
    assert sandbox.httpd.request_count == 5  # each number fetched once, by the first process only


def test_a_really_slow_api_under_a_short_lease_still_gets_one_reply(process, slack, sandbox, monkeypatch):
    """One answer over HTTP that outlasts the lease more than twice over: the lease is renewed from a
    thread while it is awaited, so the other process's worker, polling meanwhile, never takes it over.

    The lease is on a fake clock that the test moves on by 0.9 of a lease only once the holder has
    renewed at the current time, and the sandbox holds the answer until the clock is 2.7 leases on:
    a loaded machine that renews late makes the test wait, never makes the item look abandoned.
    """
    lease = 3.0
    monkeypatch.setattr(service, "LEASE_SECONDS", lease)  # the holder's thread renews every second
    clock = Clock()
    slow = patient_client(sandbox, timeout=PATIENCE)  # the suite's client would give up after 5 s
    first, other = process(clock=clock, wrap=lambda c: slow), process(clock=clock)
    renewed_at: list[float] = []  # the (fake) time of each renewal by the first process
    renew = first.store.renew

    def noted(item, *, now, lease_seconds):
        kept = renew(item, now=now, lease_seconds=lease_seconds)
        renewed_at.append(now)
        return kept

    monkeypatch.setattr(first.store, "renew", noted, raising=False)
    other_worker = TriageWorker(other)
    taken: list[int] = []
    handled: list[bool] = []
    ts = slack.new_ts()
    release = hold_requests(sandbox, monkeypatch, "GET")
    handling = threading.Thread(target=lambda: handled.append(first.handle(message(ts, [synthetic_phone(1)]))))
    handling.start()
    try:
        wait_until(lambda: sandbox.httpd.received.get("GET", 0) >= 1, what="lookup in flight at the sandbox")
        renewed_at.clear()  # from here on only the holder's thread renews: the lookup is held
        for _ in range(3):
            wait_until(lambda: renewed_at and renewed_at[-1] >= clock(), what="renewal while the answer is awaited")
            clock.advance(0.9 * lease)  # still within the lease just renewed
            taken.append(other_worker.run_due())
    finally:
        release.set()
        handling.join(PATIENCE)
        slow.close()
    assert handled == [True]
    assert len(posts(slack, ts)) == 1 and taken == [0, 0, 0]
    assert sandbox.httpd.request_count == 1
    assert first.store.get(WATCHED, ts).stage == DONE


def test_a_holder_that_lost_its_lease_posts_nothing_and_writes_nothing(process, slack, sandbox, monkeypatch):
    clock = Clock()
    other = process(clock=clock)
    other_worker = TriageWorker(other)
    taken: list[int] = []
    first = process(
        clock=clock, wrap=lambda c: SlowAnswers(c, clock, 15.0, lambda: taken.append(other_worker.run_due()))
    )

    def unreachable(*args, **kwargs):
        raise StoreUnavailableError("the database could not be reached")

    # the first process cannot renew (its database connection is down), so its lease runs out mid-work
    monkeypatch.setattr(first.store, "renew", unreachable, raising=False)
    ts = slack.new_ts()

    first.handle(message(ts, [synthetic_phone(i) for i in range(5)]))

    assert sum(taken) == 1  # taken over once the lease ran out, and answered by the other process
    (reply,) = posts(slack, ts)
    item = other.store.get(WATCHED, ts)
    assert (item.reply_ts, item.stage, item.attempts) == (reply["ts"], DONE, 1)  # the stale finish did not count
    assert not slack.calls("api", "chat.update")


# -- a post whose ts was never saved ------------------------------------------------------------

_DIES_AFTER_POSTING = r"""
import json, os, signal, sys
from types import SimpleNamespace

from slack_sdk import WebClient

from bot.triage import Triage, service
from bot.triage.intake import Message
from nextcaller_ops.phone import parse
from nextcaller_ops.stores import open_stores
from tests.support.botkit import bot_settings, sandbox_client


class DiesAfterPosting(WebClient):
    def chat_postMessage(self, **kwargs):
        super().chat_postMessage(**kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 before the reply's ts is saved


args = json.loads(os.environ["TRIAGE_CHILD"])
service.LEASE_SECONDS = args["lease"]
stores = open_stores(args["data_dir"], database_url=args["url"])
settings = bot_settings(args["bot_dir"], args["slack"], watch_channels=frozenset({args["channel"]}))
client = sandbox_client(SimpleNamespace(**args["sandbox"]))
triage = Triage(settings, stores.triage, client, DiesAfterPosting(token=args["token"], base_url=args["slack"]), stores.audit)
numbers = [parse(n) for n in args["numbers"]]
triage.handle(Message(args["channel"], args["ts"], args["ts"], "U0CALLER01", numbers, 0))
sys.exit(3)  # not reached: the process was killed
"""


def test_killed_between_the_post_and_saving_its_ts_the_next_worker_adopts_that_reply(
    process, backend, slack, sandbox, tmp_path, monkeypatch
):
    ts = slack.new_ts()
    child = {
        "lease": 1.0,
        "data_dir": str(backend.data_dir),
        "url": backend.url,
        "bot_dir": str(tmp_path / "child"),
        "slack": slack.api_url,
        "channel": WATCHED,
        "token": BOT_TOKEN,
        "sandbox": {
            "url": sandbox.url,
            "consumer_key": sandbox.consumer_key,
            "consumer_secret": sandbox.consumer_secret,
        },
        "numbers": [synthetic_phone(2)],
        "ts": ts,
    }
    env = {**os.environ, "TRIAGE_CHILD": json.dumps(child), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _DIES_AFTER_POSTING], env=env, cwd=ROOT, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == -9, done.stderr[-2000:]
    (posted,) = posts(slack, ts)
    assert process().store.get(WATCHED, ts).reply_ts is None  # the post landed; its ts was never saved

    monkeypatch.setattr(service, "LEASE_SECONDS", 1.0)
    survivor = process()
    item = run_until_answered(survivor, ts)

    assert posts(slack, ts) == [posted]  # no second reply
    assert item.reply_ts == posted["ts"]  # the reply found in the thread is the item's reply from now on
    assert slack.calls("api", "conversations.replies")


def test_a_post_whose_answer_was_lost_is_found_in_the_thread_among_other_replies(process, slack):
    clock = Clock()
    first, lost = process(clock=clock), process(clock=clock, web=AnswerLost)
    parent = slack.new_ts()
    assert first.handle(message(parent, [synthetic_phone(3)]))  # the thread already holds a reply of ours
    (earlier,) = posts(slack, parent)
    ts = slack.new_ts()  # a second message in that thread: its reply goes in the same thread

    assert lost.handle(message(ts, [synthetic_phone(4)], thread_ts=parent))

    landed = posts(slack, parent)[1]
    assert lost.store.get(WATCHED, ts).reply_ts is None
    clock.advance(60)  # the retry is due
    item = run_until_answered(first, ts)
    assert posts(slack, parent) == [earlier, landed]
    assert item.reply_ts == landed["ts"]  # not the other message's reply in the same thread
    assert first.store.get(WATCHED, parent).reply_ts == earlier["ts"]


def test_a_post_that_never_reached_slack_is_posted_once_on_the_next_attempt(process, slack):
    clock = Clock()
    never = process(clock=clock, web=NeverSent)
    ts = slack.new_ts()
    assert never.handle(message(ts, [synthetic_phone(5)]))
    assert posts(slack, ts) == []
    clock.advance(60)
    item = run_until_answered(process(clock=clock), ts)
    (reply,) = posts(slack, ts)
    assert item.reply_ts == reply["ts"]
