"""Operating the bot (issue 22): ``/healthz``, ``/readyz`` and ``/metrics`` from real bot processes.

HTTP under gunicorn with two workers (``deploy/gunicorn.conf.py``: prometheus-client's multiprocess
mode) and Socket Mode (``NEXTCALLER_OPS_HEALTH_PORT``), both on the machine's PostgreSQL and Redis.
PostgreSQL is made unreachable through a TCP proxy the test cuts (tests/support/tcpproxy.py); the real
server is never stopped.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from bot.standin.socket_server import FakeSocketMode
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE, ROOT, wait_until
from tests.support.procs import PROBE_SECONDS, answers_healthz, free_port
from tests.support.shared_bots import Slack, shared_bot_env
from tests.support.socketkit import APP_TOKEN, SocketBot, socket_env
from tests.support.tcpproxy import TcpProxy

pytest.importorskip("prometheus_client")
psycopg = pytest.importorskip("psycopg")

WORKERS = 2
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ACKED_COMMANDS = 'nextcaller_ops_slack_ack_seconds_count{kind="command"}'


def through(proxy: TcpProxy, url: str) -> str:
    """``url`` (postgresql://…@HOST:PORT/…) going through ``proxy`` instead."""
    parts = urlsplit(url)
    netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    return parts._replace(netloc=netloc).geturl()


def get(url: str) -> requests.Response | None:
    """One probe; None while the server is not answering (refused, reset, slow)."""
    try:
        return requests.get(url, timeout=PROBE_SECONDS)
    except (requests.ConnectionError, requests.Timeout):
        return None


def readiness(base: str, status: int) -> dict:
    """``/readyz``'s body once it answers ``status``."""

    def answered() -> dict | None:
        resp = get(f"{base}/readyz")
        return resp.json() if resp is not None and resp.status_code == status else None

    return wait_until(answered, what=f"/readyz answering {status}", interval=0.2)


def sample(text: str, name: str) -> float:
    """The value of the series ``name`` (with its labels, as written) in a scrape; 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def scrape(base: str) -> str:
    resp = wait_until(lambda: get(f"{base}/metrics"), what="an answer from /metrics")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain")
    return resp.text


def workers_counted(metrics_dir: Path) -> set[str]:
    """The worker processes whose files (prometheus-client's multiprocess mode, one per pid) hold a Slack ack."""
    from prometheus_client.mmap_dict import MmapedDict

    pids = set()
    for path in glob.glob(str(metrics_dir / "histogram_*.db")):
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(path):
            if "nextcaller_ops_slack_ack_seconds_bucket" in key and value > 0:
                pids.add(Path(path).stem.rsplit("_", 1)[1])
    return pids


@pytest.mark.skipif(not GUNICORN_CONF.exists(), reason="deploy/gunicorn.conf.py is not there yet")
def test_gunicorn_two_workers_health_metrics_summed_and_readiness_follows_postgres(tmp_path, pg_schema, redis_space):
    pg = urlsplit(pg_schema.url)
    with (
        Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox,
        FakeSlack() as fake,
        TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432) as proxy,
    ):
        metrics_dir = tmp_path / "prometheus"
        env = shared_bot_env(
            sandbox, fake, tmp_path, through(proxy, pg_schema.url), redis_space.url, redis_space.prefix
        )
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        master = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONF),
                "--workers",
                str(WORKERS),
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
                "bot.wsgi:application",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: answers_healthz(base), what="gunicorn answering /healthz", interval=0.2)
            assert master.poll() is None

            # Readiness: each check in the body, all passing.
            body = readiness(base, 200)
            assert body["failing"] == []
            assert set(body["checks"]) == {"postgres", "redis", "slack", "outbox"}
            assert body["checks"]["postgres"]["schema"] == body["checks"]["postgres"]["code_schema"] > 0
            assert body["checks"]["redis"] == {"ok": True, "configured": True}
            assert body["checks"]["outbox"]["depth"] == 0

            # /caller until both workers have acked some: /metrics (whichever worker answers) is their sum.
            before = sample(scrape(base), ACKED_COMMANDS)
            slack, url, sent = Slack(fake), f"{base}/slack/events", [0]
            lock = threading.Lock()

            def ask(i: int) -> None:
                slack.card(url, "212-555-8383", user=f"U0HEALTH{i:04d}")
                with lock:
                    sent[0] += 1

            def both_workers_acked() -> bool:
                threads = [threading.Thread(target=ask, args=(sent[0] + i,)) for i in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return len(workers_counted(metrics_dir)) >= WORKERS

            wait_until(both_workers_acked, what="/caller acked by both workers", interval=0)
            for _ in range(4):  # each scrape may go to either worker: every one says the sum
                text = scrape(base)
                assert sample(text, ACKED_COMMANDS) - before == sent[0]
            assert sample(text, 'nextcaller_ops_api_responses_total{status="200"}') >= 1
            assert sample(text, "nextcaller_ops_outbox_depth") == 0
            assert 'nextcaller_ops_triage_items{state="open"}' in text

            # PostgreSQL unreachable: 503 naming it; back: 200.
            proxy.cut()
            down = readiness(base, 503)
            assert down["failing"] == ["postgres"]
            assert down["checks"]["postgres"]["ok"] is False
            assert down["checks"]["outbox"]["ok"] is None  # not checked: the cause is named once
            assert answers_healthz(base)  # alive all the same: a restart would not bring the database back
            proxy.restore()
            assert readiness(base, 200)["failing"] == []
        finally:
            master.terminate()
            try:
                master.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait(PATIENCE)


def test_socket_mode_serves_health_and_metrics_on_its_port(tmp_path, pg_schema, redis_space):
    health_port = free_port()
    base = f"http://127.0.0.1:{health_port}"
    with (
        Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox,
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
    ):
        env = socket_env(
            sandbox,
            slack,
            tmp_path / "bot",
            NEXTCALLER_OPS_DATABASE_URL=pg_schema.url,
            NEXTCALLER_OPS_REDIS_URL=redis_space.url,
            NEXTCALLER_OPS_REDIS_PREFIX=redis_space.prefix,
            NEXTCALLER_OPS_HEALTH_PORT=str(health_port),
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        bot = SocketBot(env, sm, tmp_path / "bot.err")
        try:
            assert wait_until(lambda: answers_healthz(base), what="/healthz on the health port", interval=0.2)
            body = readiness(base, 200)
            assert set(body["checks"]) == {"postgres", "redis", "slack", "outbox"}
            before = sample(scrape(base), 'nextcaller_ops_lookups_total{outcome="found",surface="slack"}')
            acked = sample(scrape(base), ACKED_COMMANDS)

            envelope = sm.command("212-555-8383", response_url=slack.response_url("health1"))
            sm.wait_ack(envelope)
            slack.wait_for(lambda cs: any(c["name"] == "health1" for c in cs), timeout=PATIENCE)

            def moved() -> str | None:
                text = scrape(base)
                return text if sample(text, ACKED_COMMANDS) == acked + 1 else None

            text = wait_until(moved, what="the command's ack in /metrics", interval=0.2)
            assert sample(text, 'nextcaller_ops_lookups_total{outcome="found",surface="slack"}') == before + 1
            # A schema newer than this code (another deployment upgraded it): not ready, and why.
            with psycopg.connect(pg_schema.url, autocommit=True) as conn:
                conn.execute("INSERT INTO nextcaller_schema_version (version, name) VALUES (9999, 'future')")
            newer = readiness(base, 503)
            assert newer["failing"] == ["postgres"]
            assert "upgrade" in newer["checks"]["postgres"]["error"]
            with psycopg.connect(pg_schema.url, autocommit=True) as conn:
                conn.execute("DELETE FROM nextcaller_schema_version WHERE version = 9999")
            readiness(base, 200)

            missing = get(f"{base}/slack/events")
            assert missing is not None and missing.status_code == 404  # Slack's side is the socket here
        finally:
            bot.stop()
        assert "Traceback" not in bot.stderr()


def test_health_port_is_off_by_default_and_a_bad_one_is_refused(tmp_path):
    from bot.health import health_address
    from nextcaller_ops.errors import UsageError

    assert health_address("") is None
    assert health_address("9090") == ("127.0.0.1", 9090)
    assert health_address("0.0.0.0:9090") == ("0.0.0.0", 9090)
    with pytest.raises(UsageError, match="NEXTCALLER_OPS_HEALTH_PORT"):
        health_address("ninety")
    assert os.environ.get("NEXTCALLER_OPS_HEALTH_PORT") is None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_outbox_check_fails_when_a_due_correction_waited_too_long(tmp_path, backend, request, monkeypatch):
    """Only due rows count: a correction scheduled for later is not a stuck queue."""
    from types import SimpleNamespace

    from bot.health import Health
    from nextcaller_ops.stores import open_stores

    url = request.getfixturevalue("pg_schema").url if backend == "postgresql" else None
    stores = open_stores(tmp_path, database_url=url)
    now = 1_800_000_000.0
    monkeypatch.setenv("NEXTCALLER_OPS_READY_OUTBOX_MAX_AGE", "600")
    try:
        health = Health(SimpleNamespace(stores=stores), clock=lambda: now)  # type: ignore[arg-type]
        assert health._outbox() == {"ok": True, "depth": 0, "max_age": 600.0, "oldest_due_seconds": None}
        stores.outbox.submit("P1", {"first_name": "Cosmo"}, now=now - 3600, due=now + 60)  # waits, not due yet
        later = health._outbox()
        assert later["ok"] is True and later["depth"] == 1 and later["oldest_due_seconds"] is None
        stores.outbox.submit("P2", {"first_name": "Elaine"}, now=now - 900)  # due since 15 minutes
        stuck = health._outbox()
        assert stuck["ok"] is False and stuck["depth"] == 2 and stuck["oldest_due_seconds"] == 900.0
        assert "waited too long" in stuck["error"]
        readings = health.readings()
        assert readings["nextcaller_ops_outbox_depth"][1] == 2
        assert readings["nextcaller_ops_outbox_oldest_seconds"][1] == 3600.0
        assert readings["nextcaller_ops_triage_items"][1] == {"state": {"open": 0, "claimed": 0, "resolved": 0}}
    finally:
        stores.close()
