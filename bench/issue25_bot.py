"""Issue #25's bot targets: ``python -m bench --only i25_triage,i25_capacity``.

* ``i25_triage``: 200 watched messages carrying 200 distinct numbers against a 3 s API
  (the sandbox a child process), while ``/caller`` commands (each a distinct number) arrive
  at 5/s for the whole flood: ``/caller`` ack p99 <= 300 ms, every message one reply,
  every command one card.
* ``i25_capacity``: 1, 2 and 4 bot processes (``nextcaller-ops bot --http``) on PostgreSQL
  (a database of its own) and Redis (a server of its own, so its counters are ours alone),
  ``/caller`` at rising rates (each a distinct number, API at 50 ms) for a few seconds each:
  the highest rate with ack p99 <= 300 ms and every card delivered.  Then, at a light load on
  one process, PostgreSQL transactions (``pg_stat_database.xact_commit``, every statement its
  own transaction in autocommit) and Redis commands (``INFO commandstats``) per command.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .run import ROOT, BotOverHTTP, _numbers, sandbox_process

CHANNEL = "C0TRIAGE01"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_i25_triage(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.payloads import command_body, event_body, message_event, send_signed
    from bot.standin.web_api import FakeSlack

    messages, latency_ms, secret, per_s = (60 if quick else 200), 3000, "bench-signing-secret-000", 5.0
    watched = _numbers(messages, start=1000)
    asked = _numbers(400, start=2000)
    with (
        sandbox_process(records=2400, latency_ms=latency_ms) as url,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        # budgets far above the flood: every number is asked (a reply saying "over the budget" would skip work)
        bot = BotOverHTTP(
            url,
            slack.api_url,
            Path(tmp),
            secret,
            watch_channels=frozenset({CHANNEL}),
            watch_lookups_per_minute=100_000,
            lookups_per_minute=100_000,
        )
        endpoint = bot.endpoint
        send_signed(endpoint, command_body("help", response_url=slack.response_url("warm")), secret)  # warm-up
        acks: list[float] = []
        names: list[str] = []
        flood_done = threading.Event()

        def deliver(i: int) -> None:
            ts = slack.new_ts()
            text = f"PhoneSystem: missed call from {watched[i]} (call #{i})"
            body = event_body(message_event(CHANNEL, text, ts, bot_id="B0PHONESYS", subtype="bot_message"))
            resp = send_signed(endpoint, body, secret, content_type="application/json", timeout=60)
            assert resp.status_code == 200

        def commands() -> None:
            i, started = 0, time.monotonic()
            while not flood_done.is_set() or i < 20:  # during the whole flood (and at least 4 s)
                due = started + i / per_s
                time.sleep(max(0.0, due - time.monotonic()))
                name = f"i25cmd{i}"
                body = command_body(
                    asked[i % len(asked)], response_url=slack.response_url(name), user_id=f"U0I25{i:04d}"
                )
                t0 = time.perf_counter()
                resp = send_signed(endpoint, body, secret, timeout=60)
                acks.append(time.perf_counter() - t0)
                assert resp.status_code == 200
                names.append(name)
                i += 1

        sender = threading.Thread(target=commands)
        sender.start()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(deliver, range(messages)))
        burst_s = time.monotonic() - started
        # the flood lasts until every reply is out: commands keep coming meanwhile
        try:
            slack.wait_for(lambda cs: sum(c["name"] == "chat.postMessage" for c in cs) >= messages, timeout=300)
        except TimeoutError:
            pass  # counted below: a reply missing after 5 minutes is a miss
        flood_done.set()
        sender.join(120)
        try:
            slack.wait_for(lambda cs: {c["name"] for c in cs if c["kind"] == "response"} >= set(names), 120)
        except TimeoutError:
            pass
        calls = cards = slack.calls()
        replies = [c for c in calls if c["name"] == "chat.postMessage"]
        per_thread: dict[str, int] = {}
        for c in replies:
            per_thread[c["args"].get("thread_ts", "")] = per_thread.get(c["args"].get("thread_ts", ""), 0) + 1
        answered = {c["name"] for c in cards if c["kind"] == "response"} & set(names)
        lookups = bot.client.requests_sent
        bot.close()
    return {
        "messages": messages,
        "distinct_numbers": messages,
        "api_latency_ms": latency_ms,
        "commands": len(acks),
        "commands_per_s": per_s,
        "flood_delivered_in_s": round(burst_s, 2),
        "ack_p50_s": round(statistics.median(acks), 3),
        "ack_p99_s": round(_p(acks, 0.99), 3),
        "ack_max_s": round(max(acks), 3),
        "replies": len(replies),
        "threads_with_one_reply": sum(1 for n in per_thread.values() if n == 1),
        "cards": len(answered),
        "api_lookups": lookups,
        "target": "ack_p99_s <= 0.3; one reply per message; one card per command",
    }


# -- capacity ------------------------------------------------------------------------------


class _OwnRedis:
    """A redis-server of our own on a free port: its counters see only this bench."""

    def __init__(self) -> None:
        from tests.support.procs import free_port

        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="nc-bench-redis-")
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--save", "", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        import redis

        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client.ping()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def calls(self) -> int:
        stats = self.client.info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k not in ("cmdstat_info",))

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class _OwnDatabase:
    """A PostgreSQL database of our own: ``pg_stat_database`` counts only this bench's transactions."""

    def __init__(self) -> None:
        import psycopg

        from tests.support.shared import TEST_DATABASE_URL

        self.name = f"nco_bench_{uuid.uuid4().hex[:10]}"
        self.admin = TEST_DATABASE_URL
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = self.admin.rsplit("/", 1)[0] + "/" + self.name

    def transactions(self) -> int:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s", (self.name,)
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _rate_step(slack, fake, urls: list[str], numbers: list[str], rate: float, seconds: float, tag: str) -> dict:
    """``/caller`` at ``rate``/s over ``urls`` (round robin) for ``seconds``: acks, errors, every card delivered."""
    count = int(rate * seconds)
    acks: list[float] = []
    errors = 0
    names: list[str] = []
    lock = threading.Lock()

    def one(i: int, due: float) -> None:
        nonlocal errors
        time.sleep(max(0.0, due - time.monotonic()))
        t0 = time.perf_counter()
        try:
            resp, name = slack.command(urls[i % len(urls)], numbers[i], user=f"U{tag}{i:05d}")
            ok = resp.status_code == 200
        except Exception:
            ok, name = False, ""
        with lock:
            acks.append(time.perf_counter() - t0)
            if ok:
                names.append(name)
            else:
                errors += 1

    start = time.monotonic() + 0.2
    with ThreadPoolExecutor(max_workers=64) as pool:
        for i in range(count):
            pool.submit(one, i, start + i / rate)
    wanted = set(names)
    try:
        fake.wait_for(lambda cs: {c["name"] for c in cs if c["kind"] == "response"} >= wanted, 120)
        cards = len(wanted)
    except Exception:
        got = {c["name"] for c in fake.calls() if c["kind"] == "response"}
        cards = len(wanted & got)
    return {
        "rate_per_s": rate,
        "commands": count,
        "ack_p50_s": round(statistics.median(acks), 3),
        "ack_p99_s": round(_p(acks, 0.99), 3),
        "errors": errors,
        "cards": cards,
    }


def bench_i25_capacity(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.web_api import FakeSlack
    from nextcaller_ops.sandbox import Sandbox
    from tests.support.procs import free_port, start_http_bot
    from tests.support.shared_bots import Slack, shared_bot_env

    rates = [10.0, 20.0, 40.0] if quick else [10.0, 20.0, 40.0, 60.0, 80.0]
    seconds = 4.0 if quick else 8.0
    counts = [1, 2] if quick else [1, 2, 4]
    needed = int(sum(rates) * seconds) * len(counts) + 400
    redis_server, database = _OwnRedis(), _OwnDatabase()
    out: dict[str, Any] = {"api_latency_ms": 50, "seconds_per_step": seconds, "processes": {}}
    cursor = 0
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            Sandbox(records=needed, db=Path(tmp) / "api.sqlite3", latency_ms=50) as sandbox,
            FakeSlack() as fake,
        ):
            numbers = _numbers(needed, start=0)
            slack = Slack(fake)
            for n in counts:
                procs, urls = [], []
                prefix = f"nco-cap-{n}"
                for k in range(n):
                    port = free_port()
                    env = shared_bot_env(
                        sandbox,
                        fake,
                        Path(tmp) / f"bot{n}-{k}",
                        database.url,
                        redis_server.url,
                        prefix,
                        NEXTCALLER_OPS_LOOKUPS_PER_MINUTE="100000",
                    )
                    procs.append(start_http_bot(env, port))
                    urls.append(f"http://127.0.0.1:{port}/slack/events")
                try:
                    for url in urls:
                        slack.command(url, "help")
                    if n == 1:  # the cost of one command, counted at a light load on one process
                        time.sleep(1.0)
                        tx0, r0 = database.transactions(), redis_server.calls()
                        light = 50
                        step = _rate_step(slack, fake, urls, numbers[cursor : cursor + light], 5.0, light / 5.0, "L")
                        cursor += light
                        time.sleep(2.0)  # the stats collector's flush
                        tx1, r1 = database.transactions(), redis_server.calls()
                        out["per_command"] = {
                            "commands": light,
                            "cards": step["cards"],
                            "postgres_transactions": round((tx1 - tx0) / light, 2),
                            "redis_commands": round((r1 - r0) / light, 2),
                        }
                    steps = []
                    for rate in rates:
                        step = _rate_step(slack, fake, urls, numbers[cursor:], rate, seconds, f"C{n}R{int(rate)}")
                        cursor += step["commands"]
                        steps.append(step)
                        if step["ack_p99_s"] > 0.3 or step["errors"] or step["cards"] < step["commands"]:
                            break
                    good = [
                        s for s in steps if s["ack_p99_s"] <= 0.3 and not s["errors"] and s["cards"] == s["commands"]
                    ]
                    out["processes"][str(n)] = {
                        "steps": steps,
                        "max_rate_within_300ms_p99": good[-1]["rate_per_s"] if good else 0.0,
                    }
                finally:
                    for p in procs:
                        p.terminate()
                        try:
                            p.wait(timeout=20)
                        except subprocess.TimeoutExpired:
                            p.kill()
    finally:
        redis_server.close()
        database.close()
    out["target"] = "measured: /caller per second at ack p99 <= 300 ms, every card delivered"
    return out


if __name__ == "__main__":  # python -m bench.issue25_bot capacity|triage
    import json

    fn = {"capacity": bench_i25_capacity, "triage": bench_i25_triage}[sys.argv[1]]
    print(json.dumps(fn("--quick" in sys.argv), indent=2))
    os._exit(0)
