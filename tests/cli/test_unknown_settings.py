"""Issue 20, item 12: a misspelt NEXTCALLER_OPS_* setting stops the CLI and the bot at start.

``NEXTCALLER_OPS_ALLOWED_CHANEL=C1`` used to be ignored, leaving the allow-list empty:
everyone allowed.  Now every entry point refuses to start (exit 2) with one line naming
the closest known setting; and every name the repository uses is in the one registry.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.settings_names import KNOWN_SETTINGS, check_environment, unknown_settings
from tests.support.common import ROOT, run_cli
from tests.support.procs import free_port

TYPO = "NEXTCALLER_OPS_ALLOWED_CHANEL"


def test_the_misspelt_allow_list_names_the_one_meant():
    assert unknown_settings({TYPO: "C1", "NEXTCALLER_OPS_ALLOWED_USERS": "U1", "HOME": "/"}) == [TYPO]
    with pytest.raises(Exception) as caught:
        check_environment({TYPO: "C1"})
    assert "NEXTCALLER_OPS_ALLOWED_CHANNELS" in str(caught.value)
    assert "did you mean NEXTCALLER_OPS_ALLOWED_CHANNELS?" in str(caught.value)


def test_a_lower_case_name_is_a_slip_too():
    assert unknown_settings({"nextcaller_ops_allowed_channels": "C1"}) == ["nextcaller_ops_allowed_channels"]


def test_names_without_ops_and_known_names_pass():
    check_environment({"NEXTCALLER_BASE_URL": "https://x", "NEXTCALLER_OPS_DATA_DIR": "/tmp", "NEXTCALLER_X": "1"})


@pytest.mark.parametrize(
    "args",
    [["lookup", "2125558383"], ["status", "--offline"], ["cache", "info"], ["audit"]],
    ids=["lookup", "status", "cache", "audit"],
)
def test_every_verb_refuses_before_any_request(api_env, capsys, monkeypatch, args):
    monkeypatch.setenv(TYPO, "C1")
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert TYPO in line and "NEXTCALLER_OPS_ALLOWED_CHANNELS" in line
    assert api_env.httpd.request_count == 0


def test_help_still_works_with_a_typo(capsys, monkeypatch):
    monkeypatch.setenv(TYPO, "C1")
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0


def _bot_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "data"),
        NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "config"),
        NEXTCALLER_BASE_URL="http://127.0.0.1:9",  # never asked: the bot stops first
        NEXTCALLER_CONSUMER_KEY="k",
        NEXTCALLER_CONSUMER_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-not-a-real-token",
        SLACK_SIGNING_SECRET="not-a-real-signing-secret",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens: never reached
    )
    env[TYPO] = "C1"
    return env


@pytest.mark.timeout(60)
def test_the_bot_does_not_start_with_a_typo(tmp_path):
    done = run_cli("bot", "--http", "--host", "127.0.0.1", "--port", str(free_port()), env=_bot_env(tmp_path))
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert TYPO in line and "did you mean NEXTCALLER_OPS_ALLOWED_CHANNELS?" in line


@pytest.mark.timeout(60)
def test_the_wsgi_entry_does_not_start_with_a_typo(tmp_path):
    """``bot.wsgi`` (gunicorn's entry) refuses at import, in one line, with gunicorn's "app failed to load" code."""
    done = subprocess.run(
        [sys.executable, "-c", "import bot.wsgi"],
        env=_bot_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 4, done.stderr  # gunicorn halts on 4 instead of respawning the worker
    (line,) = done.stderr.strip().splitlines()
    assert TYPO in line and "NEXTCALLER_OPS_ALLOWED_CHANNELS" in line and "Traceback" not in done.stderr


def test_load_ext_refuses_in_one_line(monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv(TYPO, "C1")
    shell = InteractiveShell.instance()
    try:
        result = shell.run_cell("%load_ext nextcaller_ops", store_history=False)
        out, err = capsys.readouterr()
        assert not result.success
        assert "Traceback" not in out + err
        (line,) = [ln for ln in (out + err).splitlines() if ln.strip()]
        assert line.startswith("UsageError:") and TYPO in line and "NEXTCALLER_OPS_ALLOWED_CHANNELS" in line
        assert "nextcaller" not in shell.magics_manager.magics["line"]
        monkeypatch.delenv(TYPO)
        assert shell.run_cell("%load_ext nextcaller_ops", store_history=False).success  # fixed: it loads
    finally:
        shell.run_line_magic("unload_ext", "nextcaller_ops")
        InteractiveShell.clear_instance()


# Every NEXTCALLER_OPS_* name written anywhere in the repository (code, tests, benchmarks, docs).
_NAME = re.compile(r"NEXTCALLER_OPS_[A-Z0-9_]*[A-Z0-9]\b")
_SCANNED = ("nextcaller_ops", "bot", "tests", "bench", "deploy", "docs", "fuzz")
_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".ini", ".cfg", ".env", ".service", ".sh", ""}


def _names_in_repo() -> dict[str, str]:
    found: dict[str, str] = {}
    paths = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "Makefile", ROOT / "manifest.yml"]
    for top in _SCANNED:
        paths += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in _SUFFIXES]
    for path in paths:
        if not path.exists() or path == ROOT / "tests/cli/test_unknown_settings.py" or "__pycache__" in path.parts:
            continue
        for name in _NAME.findall(path.read_text(errors="replace")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_name_the_repository_uses_is_known():
    """A new NEXTCALLER_OPS_* variable goes in nextcaller_ops/settings_names.KNOWN_SETTINGS, or nothing starts."""
    missing = {name: where for name, where in _names_in_repo().items() if name not in KNOWN_SETTINGS}
    assert not missing, f"add to nextcaller_ops/settings_names.KNOWN_SETTINGS: {missing}"
