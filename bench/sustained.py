"""The bot under sustained load (issue #16, target 4): ``python -m bench --only sustained``.

A load generator sends 3,000 signed ``/caller`` commands at 20 per second (each its own
number, so every one is a lookup the API answers, in 100 ms) to ``nextcaller-ops bot --http``
in a child process, as Slack would: an ack per command, the card later on its
``response_url`` (the local fake Slack in this process).  Bounded in count and in time
(the schedule plus two minutes at most).  Measured: ack and card times (p50/p99), errors
(a failed or missing ack, a missing card, a card that is not a caller card), and the bot's
RSS at minute 1 and at the end.  The sandbox is a child process too.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .run import KEY, ROOT, SECRET, _numbers, sandbox_process


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3) if ordered else float("nan")


def bench_sustained(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.payloads import command_body, send_signed
    from bot.standin.web_api import FakeSlack
    from tests.support.procs import free_port, start_http_bot
    from tests.support.secrets import RELIABILITY_BOT_TOKEN, RELIABILITY_SIGNING

    total, per_second, latency_ms = (600 if quick else 3000), 20, 100
    numbers = _numbers(total, start=5000)
    users = 150  # each sends one command every 7.5 s: far under the bot's per-user limit (30 a minute)
    with (
        sandbox_process(records=5000 + total, latency_ms=latency_ms) as url,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            NEXTCALLER_BASE_URL=url,
            NEXTCALLER_CONSUMER_KEY=KEY,
            NEXTCALLER_CONSUMER_SECRET=SECRET,
            NEXTCALLER_OPS_DATA_DIR=str(Path(tmp, "data")),
            NEXTCALLER_OPS_CONFIG_DIR=str(Path(tmp, "cfg")),
            SLACK_BOT_TOKEN=RELIABILITY_BOT_TOKEN,
            SLACK_SIGNING_SECRET=RELIABILITY_SIGNING,
            SLACK_API_URL=slack.api_url,
            PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        )
        port = free_port()
        bot = start_http_bot(env, port)
        endpoint = f"http://127.0.0.1:{port}/slack/events"
        try:
            send_signed(endpoint, command_body("help", response_url=slack.response_url("warm")), RELIABILITY_SIGNING)
            rss_start = _rss_mb(bot.pid)
            sent_at: dict[int, float] = {}
            acks: dict[int, float] = {}
            failed_acks: list[int] = []
            lag: list[float] = []

            def send(i: int) -> None:
                body = command_body(numbers[i], response_url=slack.response_url(f"s{i}"), user_id=f"U{i % users:08d}")
                t0 = time.monotonic()
                sent_at[i] = t0
                try:
                    resp = send_signed(endpoint, body, RELIABILITY_SIGNING, timeout=10)
                    ok = resp.status_code == 200
                except Exception:
                    ok = False
                acks[i] = time.monotonic() - t0
                if not ok:
                    failed_acks.append(i)

            rss: dict[str, float] = {}
            started = time.monotonic()
            deadline = started + total / per_second + 120

            def minute_one() -> None:
                time.sleep(max(0.0, started + 60 - time.monotonic()))
                if bot.poll() is None:
                    rss["minute_1"] = _rss_mb(bot.pid)

            threading.Thread(target=minute_one, daemon=True).start()
            with ThreadPoolExecutor(max_workers=64) as pool:
                for i in range(total):
                    due = started + i / per_second
                    now = time.monotonic()
                    if now < due:
                        time.sleep(due - now)
                    elif now > deadline:
                        break
                    lag.append(max(0.0, time.monotonic() - due))
                    pool.submit(send, i)
            names = {f"s{i}" for i in sent_at}
            slack.wait_for(
                lambda cs: sum(c["kind"] == "response" and c["name"] in names for c in cs) >= len(names),
                timeout=max(1.0, deadline - time.monotonic()),
            )
            load_s = time.monotonic() - started
            rss["end"] = _rss_mb(bot.pid)
            cards = {c["name"]: c for c in slack.calls("response") if c["name"] in names}
        finally:
            bot.terminate()
            bot.wait(timeout=15)
    card_times = [cards[f"s{i}"]["at"] - sent_at[i] for i in sent_at if f"s{i}" in cards]
    not_cards = [n for n, c in cards.items() if not str(c["args"].get("text", "")).startswith("Caller ")]
    missing = len(sent_at) - len(cards)
    return {
        "commands": total,
        "sent": len(sent_at),
        "per_second": per_second,
        "api_latency_ms": latency_ms,
        "seconds": round(load_s, 1),
        "generator_lag_p99_s": _pct(lag, 0.99),
        "ack_p50_s": _pct(list(acks.values()), 0.50),
        "ack_p99_s": _pct(list(acks.values()), 0.99),
        "card_p50_s": _pct(card_times, 0.50),
        "card_p99_s": _pct(card_times, 0.99),
        "card_max_s": round(max(card_times), 3) if card_times else None,
        "errors": len(failed_acks) + missing + len(not_cards),
        "error_kinds": {"failed_acks": len(failed_acks), "missing_cards": missing, "not_a_card": len(not_cards)},
        "rss_mb_after_warmup": round(rss_start, 1),
        "rss_mb_minute_1": round(rss["minute_1"], 1) if "minute_1" in rss else None,
        "rss_mb_end": round(rss["end"], 1),
        "rss_growth_mb": round(rss["end"] - rss.get("minute_1", rss_start), 1),
        "median_ack_s": round(statistics.median(acks.values()), 3) if acks else None,
        "target": "errors 0, p99 ack <= 0.3 s, p99 card <= 1 s, RSS growth minute 1 -> end <= 30 MB",
    }
