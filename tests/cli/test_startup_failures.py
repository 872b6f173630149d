"""Issue 20, item 13: the bot's start-up failures are one line that says where, never "please report it".

``nextcaller-ops bot --http`` as a real process: Slack's Web API unreachable (a closed
port) and PostgreSQL unreachable stop it with one line and exit 1; Redis unreachable
starts it degraded with one warning, as when Redis goes away at run time.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.standin.web_api import FakeSlack
from tests.support.common import PATIENCE, ROOT, wait_until
from tests.support.procs import answers_healthz, free_port, start_http_bot
from tests.support.secrets import DB_PASSWORD, RELIABILITY_BOT_TOKEN, RELIABILITY_SIGNING


def _env(tmp_path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "data"),
        NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "config"),
        NEXTCALLER_BASE_URL=f"http://127.0.0.1:{free_port()}",  # the API is not asked at start
        NEXTCALLER_CONSUMER_KEY="startup-key",
        NEXTCALLER_CONSUMER_SECRET="startup-secret",
        SLACK_BOT_TOKEN=RELIABILITY_BOT_TOKEN,
        SLACK_SIGNING_SECRET=RELIABILITY_SIGNING,
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
    )
    env.update(more)
    return env


def _bot(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--host", "127.0.0.1", "--port", str(free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.timeout(120)
def test_slack_unreachable_is_one_line_naming_the_url_and_exit_1(tmp_path):
    slack_url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    done = _bot(_env(tmp_path, SLACK_API_URL=slack_url))
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert slack_url in line and "SLACK_API_URL" in line
    assert "internal error" not in line and "please report" not in line
    assert RELIABILITY_BOT_TOKEN not in done.stderr


@pytest.mark.timeout(120)
def test_postgresql_unreachable_is_one_line_without_the_password_and_exit_1(tmp_path):
    with FakeSlack() as slack:
        url = f"postgresql://ops:{DB_PASSWORD}@127.0.0.1:{free_port()}/team"
        done = _bot(_env(tmp_path, SLACK_API_URL=slack.api_url, NEXTCALLER_OPS_DATABASE_URL=url))
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "PostgreSQL" in line and "NEXTCALLER_OPS_DATABASE_URL" in line
    assert DB_PASSWORD not in done.stderr and "internal error" not in line


def test_redis_unreachable_starts_degraded_with_one_warning(tmp_path):
    with FakeSlack() as slack:
        env = _env(tmp_path, SLACK_API_URL=slack.api_url, NEXTCALLER_OPS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
        port = free_port()
        bot = start_http_bot(env, port)
        try:
            # still answering (degraded, not stopped): probes retried until the deadline, as at start
            wait_until(lambda: answers_healthz(f"http://127.0.0.1:{port}"), what="200 from the degraded bot's /healthz")
        finally:
            bot.terminate()
            _, err = bot.communicate(timeout=PATIENCE)
    lines = err.strip().splitlines()
    warnings = [ln for ln in lines if "Redis" in ln]
    # plain log lines: "TIMESTAMP LEVEL logger: message" (nextcaller_ops/logs.py)
    assert len(warnings) == 1 and warnings[0].split(" ")[1] == "WARNING" and "unavailable" in warnings[0], err
    assert "Traceback" not in err and "internal error" not in err
    assert [ln for ln in lines if ln not in warnings] == [
        next(ln for ln in lines if " nextcaller-ops bot: HTTP on" in ln)
    ]
