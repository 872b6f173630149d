"""Pacing (issue #16, targets 1-3): ``python -m bench --only pacing,pacing_shared,no_limit``.

1. ``pacing``: ``lookup --file`` of 2,000 distinct numbers at concurrency 32 against a sandbox
   limited to 50 requests/s (``--rate-limit 50``, answers in 50 ms): time against the
   limit-bound ideal (2,000 / 50 = 40 s) and the share of requests refused; the same
   batch with the pacer taken out (today's behaviour before #16) as the baseline.
2. ``pacing_shared``: two such CLI processes with 1,000 numbers each, one consumer key,
   one Redis; the baseline is the same two processes without Redis (each paces alone).
3. ``no_limit``: the 1,000-number / 50 ms / concurrency-32 batch with no limit, the pacer in
   (open) against the pacer taken out, alternated three times each: throughput kept.

The sandbox is a child process (``nextcaller-ops sandbox``); what it refused is the line it
prints when stopped.  Every client is its own process except in 3.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .run import KEY, PY, ROOT, SECRET, _client, _numbers, sandbox_process

# The CLI, with the pacer taken out when asked: the "before #16" baseline runs the very same code path.
_CLI = """
import sys
if sys.argv[1] == "unpaced":  # the client module's own name (since issue 21 the package only forwards to it)
    import nextcaller_ops.client.client
    from nextcaller_ops.client.transport import NO_PACING
    nextcaller_ops.client.client.pacer_for = lambda *args: NO_PACING
from nextcaller_ops.cli import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass
class LimitedSandbox:
    url: str = ""
    requests: int = 0  # signed requests it answered or refused
    refused: int = 0


@contextmanager
def limited_sandbox(
    rate: float, *, records: int, latency_ms: float = 50, headers: str = "always"
) -> Iterator[LimitedSandbox]:
    """``nextcaller-ops sandbox --rate-limit`` in a child process; its counts are filled in when it stops."""
    run = LimitedSandbox()
    with tempfile.TemporaryDirectory(prefix="nc-bench-") as tmp:
        cmd = [PY, "-m", "nextcaller_ops", "sandbox", "--port", "0", "--records", str(records)]
        cmd += ["--latency-ms", str(latency_ms), "--rate-limit", str(rate), "--db", os.path.join(tmp, "sb.sqlite3")]
        cmd += ["--rate-limit-headers", headers]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout is not None
        match = re.search(r"(http://[\d.]+:\d+)", proc.stdout.readline())
        if not match:
            proc.kill()
            raise RuntimeError("sandbox did not start")
        run.url = match.group(1)
        try:
            yield run
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
            counts = re.search(r"rate limit: (\d+) requests, (\d+) refused", out)
            if counts:
                run.requests, run.refused = int(counts.group(1)), int(counts.group(2))


def _env(url: str, tmp: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_")}
    env.update(
        NEXTCALLER_BASE_URL=url,
        NEXTCALLER_CONSUMER_KEY=KEY,
        NEXTCALLER_CONSUMER_SECRET=SECRET,
        NEXTCALLER_OPS_CONFIG_DIR=tmp,
    )
    env.update(extra)
    return env


def _batches(url: str, shares: list[list[str]], *, paced: bool, **env: str) -> dict[str, Any]:
    """One ``lookup --file`` process per share, started together: the time until the last ends, rows by status."""
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        started = time.perf_counter()
        for i, share in enumerate(shares):
            src, out = Path(tmp, f"in{i}.txt"), Path(tmp, f"out{i}.csv")
            src.write_text("\n".join(share) + "\n")
            args = ["lookup", "--file", str(src), "--concurrency", "32", "-q", "-o", str(out)]
            # each its own data dir (audit log), as on two machines: only the key and Redis are shared
            own = _env(url, tmp, NEXTCALLER_OPS_DATA_DIR=str(Path(tmp, f"data{i}")), **env)
            procs.append(subprocess.Popen([PY, "-c", _CLI, "paced" if paced else "unpaced", *args], env=own, cwd=ROOT))
        for proc in procs:
            proc.wait(timeout=900)
        seconds = time.perf_counter() - started
        statuses: dict[str, int] = {}
        for i in range(len(shares)):
            with Path(tmp, f"out{i}.csv").open() as fh:
                for row in csv.DictReader(fh):
                    statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {"seconds": round(seconds, 2), "rows": statuses}


def _run(rate: float, shares: list[list[str]], *, paced: bool, headers: str = "always", **env: str) -> dict[str, Any]:
    total = sum(len(s) for s in shares)
    with limited_sandbox(rate, records=total, headers=headers) as sandbox:
        result = _batches(sandbox.url, shares, paced=paced, **env)
    ideal = total / rate
    result.update(
        requests=sandbox.requests,
        refused=sandbox.refused,
        refused_share=round(sandbox.refused / max(1, sandbox.requests), 4),
        ratio_to_ideal=round(result["seconds"] / ideal, 3),
    )
    return result


def bench_pacing(quick: bool) -> dict[str, Any]:
    n, rate = (500 if quick else 2000), 50
    numbers = _numbers(n)
    paced = _run(rate, [numbers], paced=True)
    unpaced = _run(rate, [numbers], paced=False)
    return {
        "numbers": n,
        "concurrency": 32,
        "rate_limit_per_s": rate,
        "api_latency_ms": 50,
        "ideal_s": n / rate,
        "paced": paced,
        "baseline_unpaced": unpaced,
        "target": "paced: ratio_to_ideal <= 1.15, refused_share <= 0.02",
    }


def bench_pacing_shared(quick: bool) -> dict[str, Any]:
    n, rate = (500 if quick else 2000), 50
    numbers = _numbers(n)
    shares = [numbers[: n // 2], numbers[n // 2 :]]
    out: dict[str, Any] = {"numbers": n, "processes": 2, "rate_limit_per_s": rate, "ideal_s": n / rate}
    redis_url = os.environ.get("NEXTCALLER_OPS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        out["skipped"] = f"Redis not reachable at {redis_url} ({type(exc).__name__})"
        return out
    prefix = f"nco-bench-{uuid.uuid4().hex[:10]}"
    try:
        out["with_redis"] = _run(
            rate, shares, paced=True, NEXTCALLER_OPS_REDIS_URL=redis_url, NEXTCALLER_OPS_REDIS_PREFIX=prefix
        )
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    out["baseline_each_process_alone"] = _run(rate, shares, paced=True)
    out["target"] = "with_redis: ratio_to_ideal <= 1.2, refused_share <= 0.02"
    return out


def bench_no_limit(quick: bool) -> dict[str, Any]:
    from nextcaller_ops.client.transport import NO_PACING

    n, rounds = (300 if quick else 1000), 3
    numbers = _numbers(n)
    times: dict[str, list[float]] = {"pacer_in": [], "pacer_out": []}
    with sandbox_process(records=n, latency_ms=50) as url:
        for _ in range(rounds):
            for label in times:
                client = _client(url, cache_ttl=0)
                if label == "pacer_out":
                    client.transport.pacer = NO_PACING
                with client:
                    started = time.perf_counter()
                    items = client.lookup_many(numbers, concurrency=32)
                    times[label].append(time.perf_counter() - started)
                    assert all(i.status == "found" for i in items)
                    assert client.pacer.state() is None or client.pacer.state().rate is None  # never paced here
    with_pacer, without = statistics.median(times["pacer_in"]), statistics.median(times["pacer_out"])
    return {
        "numbers": n,
        "concurrency": 32,
        "api_latency_ms": 50,
        "rounds": rounds,
        "median_s_pacer_in": round(with_pacer, 3),
        "median_s_pacer_out": round(without, 3),
        "all_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "throughput_kept": round(without / with_pacer, 3),
        "target": "throughput_kept >= 0.95",
    }
