"""`nextcaller-ops demo`, the README's first command, runs whole and exits 0."""

from __future__ import annotations

import re

from nextcaller_ops.sandbox import DEMO_CONSUMER_SECRET
from tests.support.common import run_cli


def test_the_demo_runs_every_step_and_exits_0(isolated_env):
    proc = run_cli("demo", timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    steps = re.findall(r"^=== (\d+)\. ", proc.stdout, flags=re.M)
    assert steps == [str(n) for n in range(1, len(steps) + 1)] and len(steps) >= 8
    assert "demo: all steps done." in proc.stdout
    for seen in ("Jerry Seinfeld", "Claimed by", "Socket Mode", "fraud risk"):
        assert seen in out, seen
    assert DEMO_CONSUMER_SECRET not in out and "Traceback" not in out
