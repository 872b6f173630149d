"""``gunicorn --workers 4 --threads 8 'bot.wsgi:application'`` on PostgreSQL and Redis: four processes, one bot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE, ROOT, SEINFELD_ID, wait_until
from tests.support.procs import answers_healthz, free_port
from tests.support.shared_bots import Slack, shared_bot_env

WORKERS = 4


def children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def wait_for_workers(master: subprocess.Popen, url: str, avoid: set[int]) -> set[int]:
    """The master's worker pids once there are WORKERS of them (none in ``avoid``) and one answers /healthz.

    Each probe may time out (a loaded machine, workers still importing): it is tried again until the deadline.
    """

    def ready() -> set[int]:
        assert master.poll() is None, master.stderr.read() if master.stderr else "gunicorn exited"
        workers = children(master.pid) - avoid
        return workers if len(workers) == WORKERS and answers_healthz(url) else set()

    return wait_until(ready, what=f"{WORKERS} gunicorn workers answering /healthz", interval=0.1)


def test_gunicorn_workers_share_the_cache_and_the_outbox(tmp_path, pg_schema, redis_space):
    with Sandbox(records=10, db=tmp_path / "api.sqlite3") as sandbox, FakeSlack() as fake:
        env = shared_bot_env(
            sandbox,
            fake,
            tmp_path,
            pg_schema.url,
            redis_space.url,
            redis_space.prefix,
            NEXTCALLER_OPS_OUTBOX_RETRY_SECONDS=0.3,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        master = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--threads",
                "8",
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
                "bot.wsgi:application",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            workers = wait_for_workers(master, base, set())
            url = base + "/slack/events"
            slack = Slack(fake)
            # Sixteen agents ask for one number at once, wherever gunicorn sends them: one API request.
            sandbox.latency_ms = 300
            cards: list[dict] = []
            threads = [
                threading.Thread(
                    target=lambda i=i: cards.append(slack.card(url, "212-555-8383", user=f"U0GUNI{i:04d}"))
                )
                for i in range(16)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sandbox.latency_ms = 0
            assert len(cards) == 16 and all("Seinfeld" in str(c["blocks"]) for c in cards)
            assert sum(1 for r in sandbox.httpd.signed_requests if "records" in r["path"]) == 1

            # A correction stored while the API is down; every worker then killed; the workers gunicorn
            # starts in their place run their own outbox threads: one of them delivers it, once.
            view = slack.correction_view(url, SEINFELD_ID, "2125558383")
            sandbox.fail_rate = 1.0
            try:
                Slack.send(url, Slack.submission(view, "V0GUNICORN1", first_name="Cosmo"))
                fake.wait_for(lambda cs: any("delivered automatically" in c["args"].get("text", "") for c in cs))
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
                wait_for_workers(master, base, avoid=workers)
            finally:
                sandbox.fail_rate = 0.0
            fake.wait_for(lambda cs: any("has now been delivered" in c["args"].get("text", "") for c in cs))
            assert [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)] == [{"first_name": "Cosmo"}]
            assert pg_schema.query("SELECT status FROM nextcaller_outbox") == [("delivered",)]
        finally:
            master.terminate()
            try:
                master.wait(timeout=PATIENCE)
            except subprocess.TimeoutExpired:
                master.kill()
