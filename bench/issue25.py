"""Issue #25's targets: ``python -m bench --only i25_batch,i25_pacing,i25_triage,i25_enrich,i25_startup``.

* ``i25_batch``: ``lookup --file`` of 300 and 3,000 numbers (sandbox ``--latency-ms 50``,
  ``--concurrency 32``), each run a fresh process, against a bare requests-oauthlib pool of
  32 threads in its own fresh process (it imports requests and oauthlib only), alternated,
  medians of 3: within 1.15x.
* ``i25_pacing``: the API names its limit only on its 429s (``--rate-limit 40
  --rate-limit-headers on-429``): 2,000 numbers through one ``lookup --file`` process, and
  through two sharing the key in Redis: refused <= 2 %, wall <= 1.15x the ideal 50 s.
* ``i25_triage``, ``i25_enrich``, ``i25_startup``: see their functions.

:func:`summary` turns the results into one line per target, each "met" or "MISSED".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from .pacing import _run
from .run import KEY, PY, ROOT, SECRET, _numbers, sandbox_process

# The baseline: what a person would write with requests-oauthlib and a thread pool, nothing else.
_BARE = """
import sys, time
t0 = time.perf_counter()
from concurrent.futures import ThreadPoolExecutor
import requests
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1
url, key, secret, src, out = sys.argv[1:6]
numbers = [line.strip() for line in open(src) if line.strip()]
session = requests.Session()
session.mount("http://", HTTPAdapter(pool_connections=32, pool_maxsize=32))
auth = OAuth1(key, secret)
def ask(n):
    r = session.get(url + "/v2/records/", params={"phone": n, "format": "json"}, auth=auth, timeout=30)
    return n, r.status_code
with ThreadPoolExecutor(32) as pool, open(out, "w") as fh:
    for n, status in pool.map(ask, numbers):
        fh.write(f"{n},{status}\\n")
"""


def _env(url: str, tmp: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_")}
    env.update(
        NEXTCALLER_BASE_URL=url,
        NEXTCALLER_CONSUMER_KEY=KEY,
        NEXTCALLER_CONSUMER_SECRET=SECRET,
        NEXTCALLER_OPS_CONFIG_DIR=tmp,
        NEXTCALLER_OPS_DATA_DIR=os.path.join(tmp, "data"),  # a fresh one each run: an empty cache, every number asked
    )
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _batch_vs_bare(url: str, n: int, rounds: int) -> dict[str, Any]:
    numbers = _numbers(n)
    cli: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nc-bench-") as tmp:
        src = Path(tmp, "in.txt")
        src.write_text("\n".join(numbers) + "\n")
        for i in range(rounds):
            out_cli, out_bare = Path(tmp, f"cli{i}.csv"), Path(tmp, f"bare{i}.csv")
            cmd = [PY, "-m", "nextcaller_ops", "lookup", "--file", str(src), "--concurrency", "32", "-q"]
            cli.append(_timed([*cmd, "-o", str(out_cli)], _env(url, os.path.join(tmp, f"c{i}"))))
            bare.append(_timed([PY, "-c", _BARE, url, KEY, SECRET, str(src), str(out_bare)], os.environ.copy()))
            rows = out_cli.read_text().splitlines()
            found = sum(1 for line in rows[1:] if ",found," in line or line.endswith(",found"))
            assert len(rows) == n + 1, f"the CLI wrote {len(rows) - 1} rows of {n}"
            assert sum(1 for line in out_bare.read_text().splitlines() if line.endswith(",200")) == n
            assert found == n, f"{found} of {n} rows found"
    med_cli, med_bare = statistics.median(cli), statistics.median(bare)
    return {
        "numbers": n,
        "cli_s": round(med_cli, 3),
        "bare_s": round(med_bare, 3),
        "ratio": round(med_cli / med_bare, 3),
        "all_cli_s": [round(t, 3) for t in cli],
        "all_bare_s": [round(t, 3) for t in bare],
    }


def bench_i25_batch(quick: bool) -> dict[str, Any]:
    rounds = 3
    sizes = [300] if quick else [300, 3000]
    out: dict[str, Any] = {"concurrency": 32, "api_latency_ms": 50, "rounds": rounds, "target": "ratio <= 1.15"}
    with sandbox_process(records=max(sizes), latency_ms=50) as url:
        for n in sizes:
            out[str(n)] = _batch_vs_bare(url, n, rounds)
    return out


def bench_i25_pacing(quick: bool) -> dict[str, Any]:
    n, rate = (500 if quick else 2000), 40
    numbers = _numbers(n)
    out: dict[str, Any] = {"numbers": n, "rate_limit_per_s": rate, "headers": "on-429", "ideal_s": n / rate}
    out["one_process"] = _run(rate, [numbers], paced=True, headers="on-429")
    redis_url = os.environ.get("NEXTCALLER_OPS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    prefix = f"nco-bench-{uuid.uuid4().hex[:10]}"
    try:
        out["two_processes_redis"] = _run(
            rate,
            [numbers[: n // 2], numbers[n // 2 :]],
            paced=True,
            headers="on-429",
            NEXTCALLER_OPS_REDIS_URL=redis_url,
            NEXTCALLER_OPS_REDIS_PREFIX=prefix,
        )
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()
    out["target"] = "refused_share <= 0.02 and ratio_to_ideal <= 1.15, each"
    return out


# -- start-up ---------------------------------------------------------------------------------

_LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t0 = time.perf_counter()
shell.run_line_magic("load_ext", "nextcaller_ops")
print(time.perf_counter() - t0)
"""


def _best(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return min(times)


def bench_i25_startup(quick: bool) -> dict[str, Any]:
    runs = 5 if quick else 9
    bare = _best([PY, "-c", "import requests, oauthlib.oauth1, requests_oauthlib"], runs)
    package = _best([PY, "-c", "import requests, oauthlib.oauth1, requests_oauthlib, nextcaller_ops.client"], runs)
    client = _best(
        [PY, "-c", "import requests, oauthlib.oauth1, requests_oauthlib, nextcaller_ops.client.client"], runs
    )
    load_ext = []
    for _ in range(runs):
        out = subprocess.run([PY, "-c", _LOAD_EXT], check=True, capture_output=True, text=True, cwd=ROOT).stdout
        load_ext.append(float(out.strip().splitlines()[-1]))
    return {
        "runs": runs,
        "bare_requests_oauthlib_s": round(bare, 3),
        "import_client_package_over_bare_s": round(package - bare, 3),
        "import_client_module_over_bare_s": round(client - bare, 3),
        "load_ext_s": round(min(load_ext), 3),
        "load_ext_all_s": [round(t, 3) for t in load_ext],
        "target": "imports <= 0.2 s over bare (best of runs); %load_ext <= 0.3 s",
    }


# -- enrich ---------------------------------------------------------------------------------

_ENRICH = """
import json, resource, sys, time
import pandas as pd
import nextcaller_ops
src = sys.argv[1]
numbers = [line.strip() for line in open(src) if line.strip()]
df = pd.DataFrame({"phone": numbers, "row": range(len(numbers))})
frame_mb = df.memory_usage(deep=True).sum() / 2**20
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
out = nextcaller_ops.enrich(df, "phone", concurrency=32)
seconds = time.perf_counter() - t0
found = int((out["status"] == "found").sum())
out_mb = out.memory_usage(deep=True).sum() / 2**20
print(json.dumps({"rows": len(out), "frame_mb": round(frame_mb, 1), "rss_before_mb": round(rss_before, 1),
                  "enriched_frame_mb": round(out_mb, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "seconds": round(seconds, 2), "columns": list(out.columns)[:40], "found": found}))
"""


def bench_i25_enrich(quick: bool) -> dict[str, Any]:
    import random

    rows, distinct = (20_000, 4_000) if quick else (100_000, 20_000)
    pool = _numbers(distinct)
    rng = random.Random(25)
    numbers = pool + [rng.choice(pool) for _ in range(rows - distinct)]  # every distinct number at least once
    rng.shuffle(numbers)
    out: dict[str, Any] = {"rows": rows, "distinct": distinct, "api_latency_ms": 50, "concurrency": 32}
    with (
        sandbox_process(records=distinct, latency_ms=50) as url,
        tempfile.TemporaryDirectory(prefix="nc-bench-") as tmp,
    ):
        src = Path(tmp, "in.txt")
        src.write_text("\n".join(numbers) + "\n")
        env = _env(url, os.path.join(tmp, "e"))
        done = subprocess.run(
            [PY, "-c", _ENRICH, str(src)], env=env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        out["enrich"] = json.loads(done.stdout.strip().splitlines()[-1])
        cmd = [PY, "-m", "nextcaller_ops", "lookup", "--file", str(src), "--concurrency", "32", "-q"]
        cli_s = _timed([*cmd, "-o", str(Path(tmp, "cli.csv"))], _env(url, os.path.join(tmp, "c")))
        cli_rows = len(Path(tmp, "cli.csv").read_text().splitlines()) - 1
    e = out["enrich"]
    out["cli"] = {"seconds": round(cli_s, 2), "rows": cli_rows}
    out["enrich_rows_per_s"] = round(rows / e["seconds"], 1)
    out["cli_rows_per_s"] = round(rows / cli_s, 1)
    out["cli_over_enrich_time"] = round(e["seconds"] / cli_s, 3)
    out["rss_bound_mb"] = round(e["frame_mb"] + 150, 1)  # the frame given
    out["rss_bound_enriched_mb"] = round(e["enriched_frame_mb"] + 150, 1)  # the frame returned (what is kept)
    out["target"] = "peak_rss_mb <= frame_mb + 150; enrich time <= 1.2x the CLI's"
    return out


# -- the summary lines ----------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _batch_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    for key in ("300", "3000"):
        if key in r:
            b = r[key]
            lines.append(
                f"batch {key} [{_mark(b['ratio'] <= 1.15)}]: lookup --file {b['cli_s']} s vs a bare "
                f"requests-oauthlib 32-thread pool {b['bare_s']} s = {b['ratio']}x (<= 1.15; medians of {r['rounds']}, "
                "each its own process, 50 ms API)"
            )
    return lines


def _pacing_lines(r: dict[str, Any]) -> list[str]:
    lines = []
    for key, label in (("one_process", "1 process"), ("two_processes_redis", "2 processes, one Redis")):
        if key in r:
            p = r[key]
            ok = p["refused_share"] <= 0.02 and p["ratio_to_ideal"] <= 1.15
            lines.append(
                f"pacing on-429, {label} [{_mark(ok)}]: {r['numbers']} numbers at {r['rate_limit_per_s']}/s: "
                f"refused {100 * p['refused_share']:.1f} % ({p['refused']} of {p['requests']}; <= 2 %), "
                f"{p['seconds']} s = {p['ratio_to_ideal']}x the ideal {r['ideal_s']:g} s (<= 1.15), rows {p['rows']}"
            )
    return lines


def _startup_lines(r: dict[str, Any]) -> list[str]:
    imports = max(r["import_client_package_over_bare_s"], r["import_client_module_over_bare_s"])
    return [
        f"import nextcaller_ops.client [{_mark(imports <= 0.2)}]: +{r['import_client_package_over_bare_s']} s "
        f"(nextcaller_ops.client.client +{r['import_client_module_over_bare_s']} s) over bare requests + oauthlib "
        f"{r['bare_requests_oauthlib_s']} s (<= 0.2; best of {r['runs']})",
        f"%load_ext nextcaller_ops [{_mark(r['load_ext_s'] <= 0.3)}]: {r['load_ext_s']} s (<= 0.3; best of {r['runs']})",
    ]


def _enrich_lines(r: dict[str, Any]) -> list[str]:
    e = r["enrich"]
    ok = e["peak_rss_mb"] <= r["rss_bound_mb"] and r["cli_over_enrich_time"] <= 1.2 and e["found"] == r["rows"]
    return [
        f"enrich [{_mark(ok)}]: {r['rows']:,} rows / {r['distinct']:,} distinct, {e['found']} found: peak RSS "
        f"{e['peak_rss_mb']} MB (<= the frame given {e['frame_mb']} MB + 150 = {r['rss_bound_mb']} MB; the frame "
        f"returned is {e['enriched_frame_mb']} MB: + 150 = {r['rss_bound_enriched_mb']} MB; the interpreter with "
        f"pandas and the frame before: {e['rss_before_mb']} MB), {e['seconds']} s = {r['cli_over_enrich_time']}x "
        f"the CLI's {r['cli']['seconds']} s on the same rows (<= 1.2)"
    ]


def _triage_lines(r: dict[str, Any]) -> list[str]:
    ok = (
        r["ack_p99_s"] <= 0.3
        and r["replies"] == r["messages"] == r["threads_with_one_reply"]
        and r["cards"] == r["commands"]
        and r["api_lookups"] == r["messages"] + r["commands"]  # every number asked once: no budget skipped one
    )
    return [
        f"triage flood [{_mark(ok)}]: {r['messages']} watched messages / {r['distinct_numbers']} numbers, API "
        f"{r['api_latency_ms']} ms, /caller at {r['commands_per_s']}/s: ack p99 {r['ack_p99_s']} s (<= 0.3; "
        f"{r['commands']} commands, max {r['ack_max_s']} s), replies {r['replies']} ({r['threads_with_one_reply']} "
        f"messages with exactly one), cards {r['cards']} of {r['commands']}, {r['api_lookups']} API lookups "
        f"(= {r['messages'] + r['commands']}: every number asked once)"
    ]


def _capacity_lines(r: dict[str, Any]) -> list[str]:
    per = r.get("per_command", {})
    rates = ", ".join(
        f"{n} process{'es' if n != '1' else ''}: {v['max_rate_within_300ms_p99']:g}/s"
        for n, v in r["processes"].items()
    )
    return [
        f"capacity [measured]: /caller at ack p99 <= 300 ms (API {r['api_latency_ms']} ms): {rates}; per command "
        f"{per.get('postgres_transactions')} PostgreSQL transactions, {per.get('redis_commands')} Redis commands"
    ]


_LINES = {
    "i25_batch": _batch_lines,
    "i25_pacing": _pacing_lines,
    "i25_triage": _triage_lines,
    "i25_enrich": _enrich_lines,
    "i25_startup": _startup_lines,
    "i25_capacity": _capacity_lines,
}


def summary(results: dict[str, Any]) -> list[str]:
    """One line per issue-25 target found in ``results`` (bench/results.json)."""
    lines: list[str] = []
    for name, fn in _LINES.items():
        if name in results and isinstance(results[name], dict) and "error" not in results[name]:
            lines.extend(fn(results[name]))
    return lines
