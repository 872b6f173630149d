"""A flood of watched messages on a slow API never starves the slash command (issue 20, defect 6).

Triage lookups run on their own bounded pool (:mod:`bot.triage.pool`), not on Bolt's listener
threads: with 100 watched messages waiting on an API that takes 3 s an answer, ``/caller`` in
another channel is still acknowledged at once, and every message still gets exactly one reply
(from the pool, or from the triage worker when the pool's queue is full).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.standin.payloads import message_event
from bot.triage.pool import TriagePool
from nextcaller_ops.sandbox import synthetic_phone
from tests.support.socketkit import until

pytestmark = pytest.mark.timeout(240)

WATCHED, ELSEWHERE = "C0FLOODED1", "C0ELSEWHR1"
FLOOD = 100
API_SECONDS = 3.0
SLACK_ACK_SECONDS = 3.0
ACKS = 5  # /caller commands timed during the flood


def thread_replies(slack, channel: str) -> Counter[str]:
    """How many replies each message of ``channel`` got in its thread."""
    return Counter(
        c["args"].get("thread_ts")
        for c in slack.calls("api", "chat.postMessage")
        if c["args"].get("channel") == channel
    )


def post(bot, slack, i: int) -> str:
    """A message in the watched channel with the ``i``-th synthetic number; its ts."""
    ts = slack.new_ts()
    resp = bot.event(message_event(WATCHED, f"missed call from {synthetic_phone(i)}", ts, user="U0CALLER01"))
    assert resp.status_code == 200
    return ts


def flood(bot, slack, count: int) -> list[str]:
    """``count`` messages, each with a number of its own, delivered to the bot at once; their ts."""
    with ThreadPoolExecutor(max_workers=16) as senders:
        return list(senders.map(lambda i: post(bot, slack, i), range(count)))


def test_caller_is_acked_at_once_while_100_watched_messages_wait_on_a_3_s_api(
    make_bot, slack, sandbox, record_property
):
    bot = make_bot(watch_channels=frozenset({WATCHED}), watch_lookups_per_minute=1000)
    sandbox.latency_ms = API_SECONDS * 1000
    stamps = flood(bot, slack, FLOOD)
    until(lambda: sandbox.httpd.received.get("GET", 0) >= 8, "triage lookups in flight")

    acked = []
    for _ in range(ACKS):  # people in another channel, while the flood waits on the API
        started = time.perf_counter()
        resp, name = bot.command("2125558383", channel=ELSEWHERE)
        acked.append(time.perf_counter() - started)
        assert resp.status_code == 200, resp.text
    # timed while the flood still waited on the API (100 answers of 3 s, 16 at a time: over 18 s)
    assert len(thread_replies(slack, WATCHED)) < FLOOD
    median = statistics.median(acked)
    record_property("caller_ack_seconds_under_flood", [round(s, 3) for s in acked])
    print(
        f"/caller acked in {', '.join(f'{s * 1000:.0f} ms' for s in acked)} under the flood"
        f" (median {median * 1000:.0f} ms)"
    )
    # The target is 300 ms (before the fix: 2.9 s, the listener threads all busy with the
    # flood).  The median must stay well under Slack's 3 s, so that a moment when a loaded machine
    # runs something else does not count; no ack may reach Slack's limit.
    assert median < SLACK_ACK_SECONDS / 2, acked
    assert max(acked) < SLACK_ACK_SECONDS, acked
    assert "Seinfeld" in str(bot.responses(name)[0])  # and the card follows

    slack.wait_for(lambda cs: len(thread_replies(slack, WATCHED)) >= FLOOD, timeout=200)
    bot.close()  # every lookup started has finished: what was posted is all there is
    assert thread_replies(slack, WATCHED) == Counter(dict.fromkeys(stamps, 1))


def test_when_the_pool_is_full_the_message_is_left_to_the_worker_and_answered_once(make_bot, slack, sandbox):
    bot = make_bot(watch_channels=frozenset({WATCHED}), watch_lookups_per_minute=1000, triage_retry_seconds=60)
    services = bot.services
    # one thread and a queue of one: of six messages, four find the pool full
    services.triage_pool = TriagePool(services.triage, services.triage_worker.wake, threads=1, queue=1)
    services.triage_worker.start()
    sandbox.latency_ms = 2000
    # one at a time, so the pool's state is known: the first runs, the second waits, the rest find it full
    stamps = [post(bot, slack, 0)]
    until(lambda: sandbox.httpd.received.get("GET", 0) >= 1, "the first lookup in flight")
    stamps += [post(bot, slack, i) for i in range(1, 6)]

    slack.wait_for(lambda cs: len(thread_replies(slack, WATCHED)) >= 6)
    bot.close()
    assert thread_replies(slack, WATCHED) == Counter(dict.fromkeys(stamps, 1))
    assert services.triage_pool.left_to_worker == 4
    assert sandbox.httpd.request_count == 6  # each number looked up once
