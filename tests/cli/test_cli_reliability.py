"""The CLI's start-up imports, its status output and its audit trail."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.support.common import ROOT, SEINFELD_ID, run_cli


def test_cli_imports_no_front_end_it_does_not_use():
    code = (
        "import sys, runpy; sys.argv = ['nextcaller-ops', '--help'];\n"
        "try:\n    runpy.run_module('nextcaller_ops', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "from nextcaller_ops import client, cli\n"
        "print('heavy:' + ','.join(m for m in ('IPython', 'slack_bolt', 'slack_sdk', 'pandas', 'tqdm') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "usage: nextcaller-ops" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "heavy:"


def test_status_output_masks_the_key_and_never_shows_the_secret(api_env):
    proc = run_cli("status")
    assert "EG2D…3SE3" in proc.stdout and api_env.consumer_secret not in proc.stdout + proc.stderr


def test_cli_lookups_and_corrections_are_audited(api_env, isolated_env, capsys):
    import getpass

    from nextcaller_ops.cli.main import main
    from nextcaller_ops.stores.sqlite import SqliteAuditStore

    assert main(["lookup", "2125558383", "2025550999"]) == 1
    assert main(["lookup", "12"]) == 2  # refused before any request: nothing to audit
    assert main(["update", SEINFELD_ID, "--set", "first_name=Jerome"]) == 0
    path = isolated_env / "data" / "audit.sqlite3"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    entries = SqliteAuditStore(path).entries()
    assert [(e["action"], e["phone"], e["outcome"]) for e in entries] == [
        ("lookup", "2125558383", "found 1"),
        ("lookup", "2025550999", "no record"),
        ("correction", None, "sent"),
    ]
    assert {e["user_id"] for e in entries} == {f"os:{getpass.getuser()}"}
    assert {e["channel_id"] for e in entries} == {"cli"}
    assert entries[2]["detail"] == f"{SEINFELD_ID}: first_name"


def test_missing_slack_secrets_name_slack_login_not_the_api_login(isolated_env):
    proc = run_cli("bot", "--http", "--port", "0")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0] and "slack-login" in lines[0]
    assert "NEXTCALLER_CONSUMER_KEY" not in lines[0]
