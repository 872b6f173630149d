"""`nextcaller-ops demo`, the README's first command, runs whole and exits 0."""

from __future__ import annotations

import os
import re

from nextcaller_ops.sandbox import DEMO_CONSUMER_SECRET
from tests.support.common import ROOT, run_cli


def test_the_demo_runs_every_step_and_exits_0(isolated_env):
    # A keyring that writes down every use: the demo (the Socket Mode bot it starts included) asks none.
    asked = isolated_env / "keyring-asked.txt"
    env = dict(
        os.environ,
        PYTHON_KEYRING_BACKEND="tests.support.tattle_keyring.Keyring",
        TATTLE_KEYRING_LOG=str(asked),
        PYTHONPATH=str(ROOT),
    )
    proc = run_cli("demo", env=env, timeout=180)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    steps = re.findall(r"^=== (\d+)\. ", proc.stdout, flags=re.M)
    assert steps == [str(n) for n in range(1, len(steps) + 1)] and len(steps) >= 8
    assert "demo: all steps done." in proc.stdout
    for seen in (
        "Jerry Seinfeld",
        "Claimed by",
        "Socket Mode",
        "fraud risk",
        "Verify caller (212) 555-8383",
        "⏰",
        "snoozed by",
    ):
        assert seen in out, seen
    assert DEMO_CONSUMER_SECRET not in out and "Traceback" not in out
    assert "extra: pip install" not in out  # the dev install has every extra: no step was skipped
    assert not asked.exists(), asked.read_text()
