"""Paths, the seed's ids and the CLI as a child process: what many tests share."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SEINFELD_ID = "97d949a413f4ea8b85e9586e1f2d9a"


def run_cli(
    *args: str, env: dict | None = None, input: str | None = None, timeout: float = 60
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
