"""``--rate-limit R``: answered as the API answers it, per consumer key, with what it refused counted."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import requests
from requests_oauthlib import OAuth1

from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE

PHONE = {"phone": "2125558383", "format": "json"}
SANDBOX = [sys.executable, "-m", "nextcaller_ops", "sandbox", "--port", "0", "--records", "5"]


def get(sb: Sandbox, key: str | None = None, secret: str | None = None) -> requests.Response:
    auth = OAuth1(key or sb.consumer_key, secret or sb.consumer_secret)
    return requests.get(sb.url + "/v2/records/", params=PHONE, auth=auth, timeout=10)


def test_every_answer_carries_the_limit_and_a_refusal_is_1061_with_retry_after():
    with Sandbox(records=5, rate_limit=3) as sb:
        answers = [get(sb) for _ in range(4)]
        counts = sb.httpd.rate_counts[sb.consumer_key]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-Rate-Limit-Limit"] for a in answers] == ["3"] * 4
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    for answer in answers:  # epoch seconds when a slot frees: now, or within the second
        assert time.time() - 1 <= int(answer.headers["X-Rate-Limit-Reset"]) <= time.time() + 2
    refused = answers[-1]
    assert refused.json()["error"] == {"message": "Rate limit exceeded.", "type": "RateLimit", "code": 1061}
    assert refused.headers["Retry-After"] == "1" and "Retry-After" not in answers[0].headers
    assert counts == {"allowed": 3, "refused": 1} and sb.httpd.refused == 1


def test_each_consumer_key_has_its_own_budget_and_errors_carry_the_headers_too():
    with Sandbox(records=5, rate_limit=1) as sb:
        sb.store.add_consumer("OTHERKEY22", "other-secret-2")
        first, second = get(sb), get(sb)
        other = get(sb, "OTHERKEY22", "other-secret-2")
        bad_phone = requests.get(
            sb.url + "/v2/records/",
            params={"phone": "12", "format": "json"},
            auth=OAuth1("OTHERKEY22", "other-secret-2"),
            timeout=10,
        )
        counts = dict(sb.httpd.rate_counts)
    assert (first.status_code, second.status_code, other.status_code) == (200, 429, 200)
    assert bad_phone.status_code == 429  # the second request of that key in the second, whatever it asks
    assert counts == {
        sb.consumer_key: {"allowed": 1, "refused": 1},
        "OTHERKEY22": {"allowed": 1, "refused": 1},
    }


def test_without_a_limit_no_rate_headers_are_sent(sandbox):
    answer = get(sandbox)
    assert answer.status_code == 200 and not [h for h in answer.headers if h.lower().startswith("x-rate-limit")]


def _banner(proc: subprocess.Popen) -> str:
    """What the sandbox prints before it serves (up to "Ctrl-C stops it."; less if it died)."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Ctrl-C"):
            break
    return "".join(lines)


def test_the_sandbox_command_says_what_it_refused_when_stopped(tmp_path):
    proc = subprocess.Popen(
        [*SANDBOX, "--db", str(tmp_path / "sb.db"), "--rate-limit", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = _banner(proc)
        url = re.search(r"(http://127\.0\.0\.1:\d+)", banner).group(1)
        key = re.search(r"NEXTCALLER_CONSUMER_KEY=(\S+)", banner).group(1)
        secret = re.search(r"NEXTCALLER_CONSUMER_SECRET=(\S+)", banner).group(1)
        codes = [
            requests.get(url + "/v2/records/", params=PHONE, auth=OAuth1(key, secret), timeout=10).status_code
            for _ in range(6)  # a 429 needs two within a second: six leave room for a stall on a busy machine
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=PATIENCE)
    assert codes[0] == 200 and codes.count(429) >= 1
    assert "at most 1 requests/s per consumer key" in banner
    assert f"rate limit: {len(codes)} requests, {codes.count(429)} refused (429, code 1061)" in out
    assert proc.returncode == 0
