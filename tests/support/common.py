"""Paths, the seed's ids, the CLI as a child process, and waiting for what should happen: what many tests share."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SEINFELD_ID = "97d949a413f4ea8b85e9586e1f2d9a"

# How long a test waits for something that should happen (a process ready, a reply posted, a row
# delivered). Generous on purpose: the suite must pass on a loaded machine, and only a test that
# is failing anyway ever waits this long.
PATIENCE = 60.0

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    *,
    what: str,
    deadline: float = PATIENCE,
    interval: float = 0.02,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    After ``deadline`` seconds the test fails, naming ``what`` ("no <what> within 60 s").  An
    exception in ``ignoring`` counts as "not yet" (e.g. a connection refused while a server starts);
    any other propagates.  Use it for every readiness probe and every "eventually" check, never a
    fixed sleep or one short timeout.
    """
    give_up = time.monotonic() + deadline
    while True:
        try:
            value = predicate()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"no {what} within {deadline:g} s")
        time.sleep(interval)


def hold_requests(sandbox: Any, monkeypatch: Any, method: str) -> threading.Event:
    """From now on each ``method`` request reaching ``sandbox`` is counted (``httpd.received``), then held
    before it is answered until the returned event is set (or for :data:`PATIENCE` at most).

    For "while the request is in flight" without a latency that a slow machine could outlast.
    Set the event in a ``finally``.
    """
    release = threading.Event()
    count = sandbox.httpd.note_received

    def counted_then_held(arrived: str) -> None:
        count(arrived)
        if arrived == method:
            release.wait(PATIENCE)

    monkeypatch.setattr(sandbox.httpd, "note_received", counted_then_held)
    return release


def run_cli(
    *args: str, env: dict | None = None, input: str | None = None, timeout: float = PATIENCE
) -> subprocess.CompletedProcess:
    """The real console entry point in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "nextcaller_ops", *args],
        env=env or dict(os.environ),
        input=input,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
