"""Real child processes for tests: free ports, the bot over HTTP, readiness over /healthz."""

from __future__ import annotations

import socket
import subprocess
import sys

import requests

from .common import PATIENCE, ROOT, wait_until

# One /healthz probe may take this long; a probe that times out is retried until the deadline.
PROBE_SECONDS = 5.0


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def answers_healthz(base_url: str) -> bool:
    """One probe: True when ``base_url``/healthz answers 200; refused, reset or slow is False (not yet)."""
    try:
        return requests.get(f"{base_url}/healthz", timeout=PROBE_SECONDS).status_code == 200
    except (requests.ConnectionError, requests.Timeout):
        return False


def start_http_bot(env: dict, port: int, *, deadline: float = PATIENCE) -> subprocess.Popen:
    """``nextcaller-ops bot --http`` in a child process, returned once /healthz answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )

    def ready() -> bool:
        if proc.poll() is not None:  # it exited: no point waiting for the deadline
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the bot exited ({proc.returncode}) before answering /healthz: {err}")
        return answers_healthz(f"http://127.0.0.1:{port}")

    try:
        wait_until(ready, what="answer from the bot's /healthz", deadline=deadline)
    except AssertionError:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen) -> int:
    """End ``proc`` (SIGTERM, then SIGKILL if it is still there after the deadline); its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        proc.kill()
    return proc.wait(PATIENCE)
