"""CPU per lookup (issue #16, target 6): ``python -m bench --only cpu``.

The client's own CPU time (``time.process_time`` of this process; the sandbox answers from
a child process, with no added latency) per lookup that misses the cache, against a bare
requests-oauthlib call to the same endpoint (a ``Session``, ``OAuth1``, ``.json()``) as the
baseline; alternated in rounds, the median ratio reported.  Then one more client run under
pyinstrument (a dev-only tool): the functions with the most CPU of their own, samples in
socket waits left out (they are the sandbox's time, not ours).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any

from .run import KEY, SECRET, _client, _numbers, sandbox_process

# Leaf functions where a sample is the wait for the other process, not CPU of ours.
_WAITING = ("recv_into", "recv", "readinto", "select", "poll", "connect", "sendall", "[await]")


def _client_cpu(url: str, numbers: list[str]) -> float:
    with _client(url) as client:  # the default cache, in memory: every number a miss
        started = time.process_time()
        for number in numbers:
            assert client.lookup(number).found
        return time.process_time() - started


def _bare_cpu(url: str, numbers: list[str]) -> float:
    import requests
    from requests_oauthlib import OAuth1

    with requests.Session() as session:
        auth = OAuth1(KEY, SECRET)
        started = time.process_time()
        for number in numbers:
            resp = session.get(f"{url}/v2/records/", params={"phone": number, "format": "json"}, auth=auth, timeout=30)
            assert resp.json()["records"]
        return time.process_time() - started


def _profile(url: str, numbers: list[str]) -> dict[str, Any]:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    profiler.start()
    _client_cpu(url, numbers)
    profiler.stop()
    root = profiler.last_session.root_frame() if profiler.last_session else None
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    ours: Counter[str] = Counter()  # this package's share, by its module (with what each calls outside the list)

    def walk(frame: Any, inherited: str, module: str) -> None:
        if frame.is_synthetic:  # "[self]", "[await]": counted with their parent
            return
        path = (frame.file_path or "").replace("\\", "/")
        # a built-in or the standard library's helper counts for the package that called it
        package = next((p for p in _PACKAGES if f"/{p}/" in path or path.endswith(f"/{p}.py")), inherited)
        if "/nextcaller_ops/" in path:
            module = path.split("/nextcaller_ops/", 1)[1]
        self_time = frame.time - sum(child.time for child in frame.children if not child.is_synthetic)
        if self_time > 0 and not any(frame.function.endswith(w) for w in _WAITING):
            own[f"{frame.function} ({path.rsplit('/', 1)[-1]}:{frame.line_no})"] += self_time
            by_package[package] += self_time
            if package == "nextcaller_ops":
                ours[module] += self_time
        for child in frame.children:
            walk(child, package, module)

    if root is not None:
        walk(root, "bench", "")
    busy = sum(own.values()) or 1.0
    return {
        "lookups_profiled": len(numbers),
        "top_own_cpu": [[name, round(100 * t / busy, 1)] for name, t in own.most_common(12)],
        "by_package_percent": {k: round(100 * v / busy, 1) for k, v in by_package.most_common()},
        "nextcaller_ops_by_module_percent": {k: round(100 * v / busy, 1) for k, v in ours.most_common(8)},
    }


# Where a frame's file is; the first that matches names it (requests_oauthlib before requests).
_PACKAGES = ("nextcaller_ops", "requests_oauthlib", "oauthlib", "requests", "urllib3", "http", "json", "logging")


def bench_cpu(quick: bool) -> dict[str, Any]:
    n, rounds = (300 if quick else 1000), 5
    pool = _numbers(n * (2 * rounds + 1))
    client_s: list[float] = []
    bare_s: list[float] = []
    with sandbox_process(records=len(pool)) as url:
        _bare_cpu(url, pool[:50])  # warm both paths (imports, first connection) before measuring
        _client_cpu(url, pool[50:100])
        for r in range(rounds):
            bare_s.append(_bare_cpu(url, pool[(2 * r) * n : (2 * r + 1) * n]))
            client_s.append(_client_cpu(url, pool[(2 * r + 1) * n : (2 * r + 2) * n]))
        profile = _profile(url, pool[2 * rounds * n :])
    client_ms, bare_ms = 1000 * statistics.median(client_s) / n, 1000 * statistics.median(bare_s) / n
    return {
        "lookups_per_round": n,
        "rounds": rounds,
        "client_cpu_ms_per_lookup": round(client_ms, 3),
        "bare_requests_oauthlib_cpu_ms_per_call": round(bare_ms, 3),
        "ratio": round(client_ms / bare_ms, 3),
        "ratios_by_round": [round(c / b, 3) for c, b in zip(client_s, bare_s, strict=True)],
        "profile": profile,
        "target": "ratio <= 1.5",
    }
