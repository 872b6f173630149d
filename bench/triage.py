"""Triage channels under a burst: ``python -m bench --only triage``.

A noisy integration posts 200 messages carrying 20 distinct numbers into a watched
channel, as fast as signed HTTP deliveries go (8 senders), with the sandbox
answering in 50 ms (a child process, as the real API would be).  Measured: API
lookups made, replies posted, and the slowest time from a message's delivery to
its threaded reply reaching (the local stand-in for) Slack.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .run import ROOT, BotOverHTTP, _numbers, sandbox_process

CHANNEL = "C0TRIAGE01"


def bench_triage(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.payloads import event_body, message_event, send_signed
    from bot.standin.web_api import FakeSlack

    messages, distinct, latency_ms, secret = (
        (60, 6, 50, "bench-signing-secret-000") if quick else (200, 20, 50, "bench-signing-secret-000")
    )
    numbers = _numbers(distinct, start=700)
    with (
        sandbox_process(records=800, latency_ms=latency_ms) as url,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        bot = BotOverHTTP(url, slack.api_url, Path(tmp), secret, watch_channels=frozenset({CHANNEL}))
        client, endpoint = bot.client, bot.endpoint
        sent: dict[str, float] = {}

        def deliver(i: int) -> None:
            ts = slack.new_ts()
            text = f"PhoneSystem: missed call from {numbers[i % distinct]} (call #{i})"
            body = event_body(message_event(CHANNEL, text, ts, bot_id="B0PHONESYS", subtype="bot_message"))
            sent[ts] = time.monotonic()
            resp = send_signed(endpoint, body, secret, content_type="application/json", timeout=30)
            assert resp.status_code == 200

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(deliver, range(messages)))
        burst_s = time.monotonic() - started
        calls = slack.wait_for(lambda cs: sum(c["name"] == "chat.postMessage" for c in cs) >= messages, timeout=120)
        replies = {c["args"]["thread_ts"]: c["at"] for c in calls if c["name"] == "chat.postMessage"}
        delays = [replies[ts] - at for ts, at in sent.items()]
        lookups = client.requests_sent
        bot.close()
    return {
        "messages": messages,
        "distinct_numbers": distinct,
        "api_latency_ms": latency_ms,
        "burst_delivered_in_s": round(burst_s, 3),
        "replies_posted": len(replies),
        "api_lookups": lookups,
        "slowest_message_to_reply_s": round(max(delays), 3),
        "median_message_to_reply_s": round(statistics.median(delays), 3),
        "target": "one reply per message; each distinct number fetched once; replies within seconds",
    }
