"""Benchmarks for nextcaller-ops: every figure is a ratio against a baseline measured in the same run.

    make bench                       # everything (a few minutes: the sequential baseline alone is ~1 min)
    python -m bench --only batch,startup
    python -m bench --quick          # smaller inputs, same ratios

The sandbox runs in its own process (as the real API would), so the client
and the server do not share a GIL.  Results go to stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
KEY = "EG2D22B98D2232253SE3"
SECRET = "sandbox-demo-secret-not-for-production"


@contextmanager
def sandbox_process(*, records: int = 2000, latency_ms: float = 0) -> Iterator[str]:
    """A sandbox in a child process; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="nc-bench-") as tmp:
        proc = subprocess.Popen(
            [
                PY,
                "-m",
                "nextcaller_ops",
                "sandbox",
                "--port",
                "0",
                "--records",
                str(records),
                "--latency-ms",
                str(latency_ms),
                "--db",
                os.path.join(tmp, "sb.sqlite3"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            line = proc.stdout.readline()
            match = re.search(r"(http://[\d.]+:\d+)", line)
            if not match:
                raise RuntimeError(f"sandbox did not start: {line!r}")
            yield match.group(1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _client(url: str, **settings: Any):
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.config import load_settings
    from nextcaller_ops.credentials import Credentials

    return NextCallerClient(Credentials(KEY, SECRET, source="explicit"), load_settings(base_url=url, **settings))


def _numbers(n: int, start: int = 0) -> list[str]:
    from nextcaller_ops.sandbox import synthetic_phone

    return [synthetic_phone(i) for i in range(start, start + n)]


# -- 1. batch throughput ---------------------------------------------------------------------


def bench_batch(quick: bool) -> dict[str, Any]:
    import requests
    from requests_oauthlib import OAuth1

    n, concurrency, latency = (300 if quick else 1000), 32, 50
    numbers = _numbers(n)
    with sandbox_process(records=n, latency_ms=latency) as url:
        session, auth = requests.Session(), OAuth1(KEY, SECRET)
        started = time.perf_counter()
        for number in numbers:  # the baseline: a plain sequential requests-oauthlib loop
            r = session.get(f"{url}/v2/records/", params={"phone": number, "format": "json"}, auth=auth, timeout=30)
            r.raise_for_status()
            r.json()
        sequential = time.perf_counter() - started

        with _client(url, cache_ttl=0) as client:
            started = time.perf_counter()
            items = client.lookup_many(numbers, concurrency=concurrency)
            batched = time.perf_counter() - started
        assert [i.status for i in items] == ["found"] * n

        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp, "in.txt")
            src.write_text("\n".join(numbers) + "\n")
            env = dict(
                os.environ,
                NEXTCALLER_BASE_URL=url,
                NEXTCALLER_CONSUMER_KEY=KEY,
                NEXTCALLER_CONSUMER_SECRET=SECRET,
                NEXTCALLER_OPS_CONFIG_DIR=tmp,
            )
            started = time.perf_counter()
            subprocess.run(
                [
                    PY,
                    "-m",
                    "nextcaller_ops",
                    "lookup",
                    "--file",
                    str(src),
                    "--concurrency",
                    str(concurrency),
                    "-q",
                    "-o",
                    str(Path(tmp, "out.csv")),
                ],
                env=env,
                check=True,
            )
            cli = time.perf_counter() - started
    ideal = n / concurrency * latency / 1000
    return {
        "numbers": n,
        "concurrency": concurrency,
        "latency_ms": latency,
        "sequential_s": round(sequential, 2),
        "lookup_many_s": round(batched, 3),
        "cli_file_s": round(cli, 3),
        "ideal_s": round(ideal, 3),
        "speedup_vs_sequential": round(sequential / batched, 1),
        "cli_speedup_vs_sequential": round(sequential / cli, 1),
        "ratio_to_ideal": round(batched / ideal, 2),
        "cli_ratio_to_ideal": round(cli / ideal, 2),
        "targets": "speedup >= 20, ratio_to_ideal <= 1.5",
    }


# -- 2. scale: 100,000 numbers through --file --------------------------------------------------


def bench_scale(quick: bool) -> dict[str, Any]:
    n = 20_000 if quick else 100_000
    numbers = _numbers(n)
    with sandbox_process(records=n) as url, tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "in.txt")
        src.write_text("\n".join(numbers) + "\n")
        env = dict(
            os.environ,
            NEXTCALLER_BASE_URL=url,
            NEXTCALLER_CONSUMER_KEY=KEY,
            NEXTCALLER_CONSUMER_SECRET=SECRET,
            NEXTCALLER_OPS_CONFIG_DIR=tmp,
        )
        # Baseline for memory: the same interpreter importing the same client, doing nothing.
        base = subprocess.run(
            [
                PY,
                "-c",
                "import nextcaller_ops.client, resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        base_rss_mb = int(base.stdout) / 1024
        started = time.perf_counter()
        proc = subprocess.Popen(
            [PY, "-m", "nextcaller_ops", "lookup", "--file", str(src), "--concurrency", "32", "-q"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        first_row_at = None
        rows = 0
        in_order = True
        assert proc.stdout is not None
        proc.stdout.readline()  # header
        for line in proc.stdout:
            if first_row_at is None:
                first_row_at = time.perf_counter() - started
            if in_order and not line.startswith(numbers[rows]):
                in_order = False
            rows += 1
        _, status, usage = os.wait4(proc.pid, 0)
        total = time.perf_counter() - started
    peak_mb = usage.ru_maxrss / 1024
    return {
        "numbers": n,
        "rows": rows,
        "in_input_order": in_order,
        "exit_status": status,
        "seconds": round(total, 1),
        "lookups_per_s": round(n / total),
        "first_row_after_s": round(first_row_at or 0, 3),
        "first_row_fraction_of_run": round((first_row_at or 0) / total, 4),
        "peak_rss_mb": round(peak_mb, 1),
        "baseline_import_rss_mb": round(base_rss_mb, 1),
        "rss_over_baseline": round(peak_mb / base_rss_mb, 2),
        "target": "peak RSS < 200 MB, rows streamed",
    }


# -- 3. never pay twice ------------------------------------------------------------------------


def bench_cache(quick: bool) -> dict[str, Any]:
    import random

    lookups, distinct = (3000, 300) if quick else (10_000, 1000)
    pool = _numbers(distinct)
    rng = random.Random(7)
    workload = [rng.choice(pool) for _ in range(lookups)]
    with sandbox_process(records=distinct, latency_ms=5) as url:
        with _client(url, cache_ttl=0) as nocache:
            started = time.perf_counter()
            nocache.lookup_many(workload, concurrency=32)
            no_cache_s = time.perf_counter() - started
            # lookup_many's own dedupe is on even without a cache; count plain lookups too
            plain = nocache.requests_sent
        with _client(url) as client:
            started = time.perf_counter()
            chunks = [workload[i : i + 500] for i in range(0, lookups, 500)]
            for chunk in chunks:  # separate batches: the cache, not the batch dedupe, does the work
                client.lookup_many(chunk, concurrency=32)
            cached_s = time.perf_counter() - started
            calls = client.requests_sent
        # single-flight: 64 threads ask for one number at the same moment
        with _client(url) as client:
            barrier = threading.Barrier(64)

            def ask() -> None:
                barrier.wait()
                client.lookup(pool[0])

            with concurrent.futures.ThreadPoolExecutor(64) as ex:
                list(ex.map(lambda _: ask(), range(64)))
            burst_calls = client.requests_sent
    return {
        "lookups": lookups,
        "distinct_numbers": distinct,
        "api_calls": calls,
        "api_calls_per_lookup": round(calls / lookups, 3),
        "api_calls_without_cache_one_batch": plain,
        "seconds_with_cache": round(cached_s, 2),
        "seconds_one_batch_no_cache": round(no_cache_s, 2),
        "single_flight_64_threads_api_calls": burst_calls,
        "target": "one call per distinct number per TTL",
    }


# -- 4. bot under a burst -----------------------------------------------------------------------


class BotOverHTTP:
    """The real Bolt app on a local HTTP server, its client pointing at ``url``: for the bot benchmarks."""

    def __init__(self, url: str, slack_api_url: str, data_dir: Path, secret: str, **settings: Any) -> None:
        sys.path.insert(0, str(ROOT))
        from bot.app import build_app
        from bot.run import serve_http
        from bot.services import build_services
        from bot.settings import BotSettings

        bot_settings = BotSettings(
            bot_token="bench-bot-token-for-the-local-fake-slack",
            signing_secret=secret,
            slack_api_url=slack_api_url,
            data_dir=data_dir,
            **settings,
        )
        self.client = _client(url)
        self.services = build_services(bot_settings, self.client)
        app = build_app(bot_settings, self.client, services=self.services)
        self.server = serve_http(app, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/slack/events"

    def close(self) -> None:
        self.server.shutdown()
        self.services.close()
        self.client.close()


def bench_bot(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.payloads import command_body, send_signed
    from bot.standin.web_api import FakeSlack

    burst, latency_ms, secret = 20, 2000, "bench-signing-secret-000"
    numbers = _numbers(burst, start=500)
    with (
        sandbox_process(records=600, latency_ms=latency_ms) as url,
        FakeSlack() as slack,
        tempfile.TemporaryDirectory() as tmp,
    ):
        bot = BotOverHTTP(url, slack.api_url, Path(tmp), secret)
        endpoint = bot.endpoint
        send_signed(endpoint, command_body("help", response_url=slack.response_url("warm")), secret)  # auth.test once
        acks: list[float] = []
        start_gate = threading.Barrier(burst + 1)

        def one(i: int) -> None:
            body = command_body(numbers[i], response_url=slack.response_url(f"b{i}"))
            start_gate.wait()
            t0 = time.perf_counter()
            resp = send_signed(endpoint, body, secret, timeout=30)
            acks.append(time.perf_counter() - t0)
            assert resp.status_code == 200

        threads = [threading.Thread(target=one, args=(i,)) for i in range(burst)]
        for t in threads:
            t.start()
        start_gate.wait()
        burst_at = time.monotonic()
        for t in threads:
            t.join()
        calls = slack.wait_for(
            lambda cs: sum(c["kind"] == "response" and c["name"].startswith("b") for c in cs) >= burst, timeout=60
        )
        delivered = [c["at"] - burst_at for c in calls if c["kind"] == "response" and c["name"].startswith("b")]
        bot.close()
    return {
        "commands": burst,
        "api_latency_s": latency_ms / 1000,
        "slowest_ack_s": round(max(acks), 3),
        "median_ack_s": round(statistics.median(acks), 3),
        "ack_budget_used": round(max(acks) / 3.0, 3),
        "last_card_after_s": round(max(delivered), 3),
        "first_card_after_s": round(min(delivered), 3),
        "last_card_vs_api_latency": round(max(delivered) / (latency_ms / 1000), 2),
        "target": "acks far under 3 s, every card within 3 s",
    }


# -- 5. start-up --------------------------------------------------------------------------------


def _best_of(cmd: list[str], runs: int = 7, env: dict | None = None) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_startup(quick: bool) -> dict[str, Any]:
    bare = _best_of([PY, "-c", "pass"])
    help_s = _best_of([PY, "-m", "nextcaller_ops", "--help"])
    env = dict(
        os.environ,
        NEXTCALLER_CONSUMER_KEY=KEY,
        NEXTCALLER_CONSUMER_SECRET=SECRET,
        NEXTCALLER_BASE_URL="http://127.0.0.1:9",
    )
    # a lookup refused before any request still imports what lookup needs
    lookup_s = _best_of([PY, "-m", "nextcaller_ops", "lookup", "555"], env=env)
    probe = subprocess.run(
        [
            PY,
            "-c",
            "import sys; from nextcaller_ops import cli, client;"
            "heavy = [m for m in ('IPython', 'slack_bolt', 'slack_sdk', 'pandas') if m in sys.modules];"
            "print(','.join(heavy))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "bare_python_s": round(bare, 3),
        "help_s": round(help_s, 3),
        "lookup_s": round(lookup_s, 3),
        "help_over_bare_s": round(help_s - bare, 3),
        "lookup_over_bare_s": round(lookup_s - bare, 3),
        "heavy_modules_imported": probe.stdout.strip() or "none",
        "target": "<= 0.3 s over bare python",
    }


# -- 6. the sandbox -------------------------------------------------------------------------------


def bench_sandbox(quick: bool) -> dict[str, Any]:
    import requests
    from requests_oauthlib import OAuth1

    n = 2000 if quick else 6000
    numbers = _numbers(1000)
    with sandbox_process(records=1000) as url:
        local = threading.local()

        def one(number: str) -> int:
            if not hasattr(local, "s"):
                local.s = requests.Session()
            return local.s.get(
                f"{url}/v2/records/", params={"phone": number, "format": "json"}, auth=OAuth1(KEY, SECRET), timeout=30
            ).status_code

        # baseline: one client, sequential, on the same server
        t0 = time.perf_counter()
        for number in numbers[:300]:
            one(number)
        single = 300 / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(32) as ex:
            codes = list(ex.map(one, (numbers[i % 1000] for i in range(n))))
        rate = n / (time.perf_counter() - t0)
    assert set(codes) == {200}
    # what the batch benchmark needs from it: 32 in flight every 50 ms = 640/s
    return {
        "signed_lookups_per_s_32_clients": round(rate),
        "signed_lookups_per_s_1_client": round(single),
        "scaling_32_vs_1": round(rate / single, 2),
        "headroom_vs_batch_need_640_per_s": round(rate / 640, 2),
        "note": "client and server share this machine's 2 cores",
    }


BENCHES = {
    "batch": bench_batch,
    "scale": bench_scale,
    "cache": bench_cache,
    "bot": bench_bot,
    "startup": bench_startup,
    "sandbox": bench_sandbox,
}  # bench/__main__.py adds the ones in their own modules (triage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="comma-separated: " + ",".join(BENCHES))
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    chosen = args.only.split(",") if args.only else list(BENCHES)
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    for name in chosen:
        print(f"-- {name}", flush=True)
        results[name] = BENCHES[name](args.quick)
        print(json.dumps(results[name], indent=2), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
