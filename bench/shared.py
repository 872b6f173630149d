"""Shared state across processes (issue #15): what PostgreSQL and Redis buy, measured.

    python -m bench.shared              # needs the local PostgreSQL and Redis (or the TEST URLs)

1. API requests for 1,000 lookups of 100 numbers spread over 4 processes: with
   Redis, and with each process on its own (the baseline).
2. An orphaned correction: two bot processes on PostgreSQL; the one delivering is
   killed (SIGKILL) while its POST is in flight; the time until the survivor has
   delivered it (the lease, 30 s by default, then the survivor's next poll).
3. The bot's burst (20 ``/caller`` at once, API at 2 s) with two bot processes on
   PostgreSQL and Redis, ten commands to each.

The sandbox and the fake Slack run in this process; every client is its own process.
Results go to stdout and bench/shared-results.json (not committed).
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import KEY, SECRET, _numbers  # noqa: E402
from bot.standin.web_api import FakeSlack  # noqa: E402
from nextcaller_ops.sandbox import Sandbox  # noqa: E402
from tests.support.procs import free_port, start_http_bot  # noqa: E402
from tests.support.shared import PostgresSchema, RedisSpace  # noqa: E402
from tests.support.shared_bots import Slack, shared_bot_env  # noqa: E402

_LOOKER = """
import sys
from nextcaller_ops.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
url, redis_url, prefix, numbers, key, secret = sys.argv[1:]
settings = load_settings(base_url=url, redis_url=redis_url or None, redis_prefix=prefix)
with NextCallerClient(Credentials(key, secret, source="explicit"), settings) as nc:
    items = nc.lookup_many(numbers.split(","), concurrency=8)
    assert all(i.status == "found" for i in items), [i.error for i in items if i.status != "found"][:3]
"""


def bench_lookups() -> dict[str, Any]:
    numbers = _numbers(100)
    rng = random.Random(15)
    work = [rng.choice(numbers) for _ in range(1000)]
    shares = [work[i::4] for i in range(4)]
    out: dict[str, Any] = {"lookups": 1000, "distinct_numbers": 100, "processes": 4}
    with tempfile.TemporaryDirectory() as tmp, Sandbox(records=200, db=Path(tmp) / "api.sqlite3") as sandbox:
        sandbox.latency_ms = 20
        for label, with_redis in (("without_redis", False), ("with_redis", True)):
            space = RedisSpace() if with_redis else None
            before = sandbox.httpd.request_count
            started = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _LOOKER,
                        sandbox.url,
                        space.url if space else "",
                        space.prefix if space else "",
                        ",".join(s),
                        KEY,
                        SECRET,
                    ],
                    cwd=ROOT,
                )
                for s in shares
            ]
            assert all(p.wait(timeout=300) == 0 for p in procs)
            out[f"api_requests_{label}"] = sandbox.httpd.request_count - before
            out[f"seconds_{label}"] = round(time.perf_counter() - started, 2)
            if space:
                space.clean()
    return out


def _two_bots(sandbox, fake, root: Path, schema, space, **extra) -> tuple[list[str], list[subprocess.Popen]]:
    urls, procs = [], []
    for name in ("a", "b"):
        port = free_port()
        env = shared_bot_env(sandbox, fake, root / name, schema.url, space.url, space.prefix, **extra)
        procs.append(start_http_bot(env, port))
        urls.append(f"http://127.0.0.1:{port}/slack/events")
    return urls, procs


def bench_orphan() -> dict[str, Any]:
    from tests.support.common import SEINFELD_ID

    schema, space = PostgresSchema(), RedisSpace()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(records=10, db=Path(tmp) / "api.sqlite3") as sandbox,
        FakeSlack() as fake,
    ):
        urls, procs = _two_bots(sandbox, fake, Path(tmp), schema, space)
        try:
            slack = Slack(fake)
            view = slack.correction_view(urls[0], SEINFELD_ID, "2125558383")
            sandbox.latency_ms = 3000  # the POST is in flight when its process dies
            posts = sandbox.httpd.received.get("POST", 0)
            Slack.send(urls[0], Slack.submission(view, "V0ORPHAN001", first_name="Newman"))
            while sandbox.httpd.received.get("POST", 0) == posts:
                time.sleep(0.005)
            procs[0].send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            procs[0].wait()
            sandbox.latency_ms = 0
            calls = fake.wait_for(
                lambda cs: any("has now been delivered" in c["args"].get("text", "") for c in cs), 120
            )
            delivered_at = next(c["at"] for c in calls if "has now been delivered" in c["args"].get("text", ""))
            applied = len(sandbox.store.corrections(SEINFELD_ID))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=15)
            schema.drop()
            space.clean()
    return {
        "lease_seconds": 30,
        "seconds_from_kill_to_delivered": round(delivered_at - killed_at, 2),
        "corrections_applied": applied,
        "target": "taken over within a minute, applied once",
    }


def bench_burst() -> dict[str, Any]:
    schema, space = PostgresSchema(), RedisSpace()
    burst = 20
    numbers = _numbers(burst, start=500)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(records=600, db=Path(tmp) / "api.sqlite3") as sandbox,
        FakeSlack() as fake,
    ):
        urls, procs = _two_bots(sandbox, fake, Path(tmp), schema, space)
        try:
            slack = Slack(fake)
            for url in urls:
                slack.command(url, "help")  # auth.test and the first request out of the way
            sandbox.latency_ms = 2000
            acks: list[float] = []
            names: list[str] = []
            gate = threading.Barrier(burst + 1)

            def one(i: int) -> None:
                gate.wait()
                t0 = time.perf_counter()
                resp, name = slack.command(urls[i % 2], numbers[i], user=f"U0BURST{i:03d}")
                acks.append(time.perf_counter() - t0)
                names.append(name)
                assert resp.status_code == 200

            threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
            for t in threads:
                t.start()
            gate.wait()
            burst_at = time.monotonic()
            for t in threads:
                t.join()
            calls = fake.wait_for(
                lambda cs: sum(c["kind"] == "response" and c["name"] in names for c in cs) >= burst, 60
            )
            delivered = [c["at"] - burst_at for c in calls if c["kind"] == "response" and c["name"] in names]
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=15)
            schema.drop()
            space.clean()
    return {
        "commands": burst,
        "processes": 2,
        "api_latency_s": 2.0,
        "slowest_ack_s": round(max(acks), 3),
        "median_ack_s": round(statistics.median(acks), 3),
        "last_card_after_s": round(max(delivered), 3),
        "target": "acks far under 3 s, every card within 3 s",
    }


def main() -> int:
    results = {}
    for name, bench in (("lookups", bench_lookups), ("orphan", bench_orphan), ("burst", bench_burst)):
        print(f"-- {name}", flush=True)
        results[name] = bench()
        print(json.dumps(results[name], indent=2), flush=True)
    (ROOT / "bench" / "shared-results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
