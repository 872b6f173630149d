"""Real child processes for tests: free ports, the bot over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests

from .common import ROOT


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_http_bot(env: dict, port: int, *, timeout: float = 30) -> subprocess.Popen:
    """``nextcaller-ops bot --http`` in a child process, returned once /healthz answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("bot did not start: " + (proc.stderr.read() if proc.stderr else ""))
