"""``/metrics`` (issue 22): what moves after lookups, and no person in any label; the core without prometheus-client."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import ROOT, wait_until
from tests.support.procs import PROBE_SECONDS, free_port, start_http_bot, stop
from tests.support.shared_bots import Slack, shared_bot_env

pytest.importorskip("prometheus_client")

AGENTS = ("U0METRICS01", "U0METRICS02", "W0METRICS03")
NUMBERS = ("212-555-8383", "(646) 555-0199", "+1 415 555 2671")  # found, and numbers the sandbox may not hold
LABELS = re.compile(r"\{([^}]*)\}")


def scrape(base: str) -> str:
    def answered() -> str | None:
        try:
            resp = requests.get(f"{base}/metrics", timeout=PROBE_SECONDS)
        except (requests.ConnectionError, requests.Timeout):
            return None
        return resp.text if resp.status_code == 200 else None

    return wait_until(answered, what="an answer from /metrics", interval=0.2)


def series(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` for every sample of ``name``."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name):
            head, value = line.rsplit(" ", 1)
            found[head[len(name) :]] = float(value)
    return found


def test_lookups_move_the_metrics_and_no_label_names_a_person(tmp_path):
    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as fake:
        env = shared_bot_env(sandbox, fake, tmp_path, "", "", "")
        for name in ("NEXTCALLER_OPS_DATABASE_URL", "NEXTCALLER_OPS_REDIS_URL", "NEXTCALLER_OPS_REDIS_PREFIX"):
            env.pop(name)  # the embedded stores: one process, metrics without the multiprocess mode
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = start_http_bot(env, port)
        try:
            before = scrape(base)
            assert series(before, "nextcaller_ops_lookups_total") == {}
            slack = Slack(fake)
            for agent, number in zip(AGENTS, NUMBERS, strict=True):
                slack.card(f"{base}/slack/events", number, user=agent)
            slack.card(f"{base}/slack/events", "212-555-8383", user=AGENTS[0])  # from the cache

            def counted() -> str | None:
                text = scrape(base)
                return text if sum(series(text, "nextcaller_ops_lookups_total").values()) == 4 else None

            text = wait_until(counted, what="four lookups counted", interval=0.2)
            lookups = series(text, "nextcaller_ops_lookups_total")
            assert lookups['{outcome="found",surface="slack"}'] >= 2  # the first and the cached one
            cache = series(text, "nextcaller_ops_cache_total")
            assert cache['{backend="memory",result="hit"}'] >= 1
            assert cache['{backend="memory",result="miss"}'] >= 1
            assert series(text, 'nextcaller_ops_api_responses_total{status="200"}')
            assert series(text, 'nextcaller_ops_api_request_seconds_count{method="GET"}')[""] >= 1
            acks = series(text, 'nextcaller_ops_slack_ack_seconds_count{kind="command"}')
            assert acks[""] == 4
            assert 'nextcaller_ops_slack_ack_seconds_bucket{kind="command",le="3.0"}' in text
            assert "nextcaller_ops_pacing_rate" in text
            assert series(text, "nextcaller_ops_outbox_depth") == {"": 0.0}

            # No phone number (a run of ten digits), email or Slack user id in any label.
            labels = " ".join(LABELS.findall(text))
            assert labels, "the scrape has labelled series"
            assert not re.search(r"\d{10}", labels)
            assert not re.search(r"\b[UW][A-Z0-9]{8,}\b", labels)
            assert "@" not in labels
            for agent in AGENTS:
                assert agent not in text
            for number in ("2125558383", "6465550199", "4155552671"):
                assert number not in text
        finally:
            stop(bot)


def test_the_core_imports_and_counts_without_prometheus_client():
    """The base install has no prometheus-client: every metric is a no-op, and /metrics says what to install."""
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from nextcaller_ops import metrics\n"
        "import nextcaller_ops.client.transport, nextcaller_ops.cache.memory, nextcaller_ops.rate.pacer\n"
        "assert not metrics.AVAILABLE\n"
        "metrics.lookup('slack', 'found 1'); metrics.API_SECONDS.labels(method='GET').observe(0.1)\n"
        "metrics.PACING_RATE.set(3); metrics.CACHE.labels(backend='memory', result='hit').inc()\n"
        "print(metrics.exposition(lambda: {}).decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "nextcaller-ops[slack]" in done.stdout


def test_a_postgresql_error_through_the_pool_is_counted(pg_schema):
    """Every PostgreSQL store call goes through the pool: an unreachable server counts in store_errors_total."""
    from urllib.parse import urlsplit

    from prometheus_client import REGISTRY

    from nextcaller_ops.stores.postgres import open_pool
    from tests.support.tcpproxy import TcpProxy

    def errors() -> float:
        return REGISTRY.get_sample_value("nextcaller_ops_store_errors_total", {"store": "postgresql"}) or 0.0

    pg = urlsplit(pg_schema.url)
    with TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432) as proxy:
        netloc = pg.netloc.replace(f"{pg.hostname}:{pg.port}", f"127.0.0.1:{proxy.port}")
        pool = open_pool(pg._replace(netloc=netloc).geturl(), timeout=2)
        try:
            with pool.connection() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            before = errors()
            proxy.cut()
            with pytest.raises(Exception) as failed, pool.connection() as conn:
                conn.execute("SELECT 1")
            assert type(failed.value).__module__.startswith(("psycopg", "psycopg_pool"))
            assert errors() == before + 1
        finally:
            pool.close()
