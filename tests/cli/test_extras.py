"""A surface whose extra is missing says, in one line, which extra to install (exit 2), never a traceback.

A missing package is simulated by ``sys.modules[name] = None`` (``import name`` then fails as
it does where it is not installed); tests/cli/test_install.py checks the same on a real bare install.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.errors import MissingExtraError, UsageError, missing_extra, require


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- the helper ------------------------------------------------------------------------------------


def test_the_sentence_names_the_extra_and_the_command_that_installs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "slack_bolt", None)
    with pytest.raises(MissingExtraError) as info:
        require("slack_bolt", "slack", "the Slack bot")
    assert str(info.value) == "the Slack bot needs the [slack] extra: pip install 'nextcaller-ops[slack]'"
    assert isinstance(info.value, UsageError) and info.value.missing == "slack_bolt"
    assert require("json", "slack", "the Slack bot") is json


def test_missing_extra_only_looks(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert missing_extra(("json", "pandas"), "notebook", "the IPython part").missing == "pandas"
    assert missing_extra(("json", "no_such_module_anywhere.sub"), "x", "y").missing == "no_such_module_anywhere.sub"
    assert missing_extra(("json", "csv"), "notebook", "the IPython part") is None


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["slack_bolt", "slack_sdk", "websockets"])
def test_bot_without_the_slack_libraries_names_the_slack_extra(module, monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-used")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "not-used-either")
    monkeypatch.setitem(sys.modules, module, None)
    assert main(["bot", "--http", "--host", "127.0.0.1", "--port", "0"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert _one_line(out.err) == "error: the Slack bot needs the [slack] extra: pip install 'nextcaller-ops[slack]'"


def test_database_url_without_psycopg_names_the_shared_extra(monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", "postgresql://127.0.0.1:9/never-reached")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    assert main(["audit"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: PostgreSQL (NEXTCALLER_OPS_DATABASE_URL is set) needs the [shared] extra: ")
    assert "pip install 'nextcaller-ops[shared]', or unset NEXTCALLER_OPS_DATABASE_URL" in line


def test_redis_url_without_redis_names_the_shared_extra(api_env, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(sys.modules, "redis", None)
    assert main(["lookup", "2125558383"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: Redis (NEXTCALLER_OPS_REDIS_URL is set) needs the [shared] extra: ")
    assert "pip install 'nextcaller-ops[shared]', or unset NEXTCALLER_OPS_REDIS_URL" in line
    assert api_env.httpd.request_count == 0  # refused before any request


def test_parquet_without_pyarrow_names_the_parquet_extra(tmp_path, monkeypatch):
    from nextcaller_ops.batch.frames import check_export_path

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    target = tmp_path / "calls.parquet"
    with pytest.raises(MissingExtraError) as info:
        check_export_path(str(target))
    assert str(info.value) == (
        f"--to {target}: writing Parquet with pyarrow needs the [parquet] extra: "
        "pip install 'nextcaller-ops[parquet]', or write a .csv"
    )


# -- the notebook ----------------------------------------------------------------------------------

# In a child process: a fresh interpreter, where nothing imported pandas before the extension did.
_NOTEBOOK = r"""
import json, sys
hide = sys.argv[1:]
for name in hide:
    sys.modules[name] = None
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "nextcaller_ops")
after_load = sorted(m for m in ("pandas", "pyarrow", "slack_bolt", "slack_sdk", "websockets", "yaml", "psycopg", "redis")
                    if sys.modules.get(m) is not None)
card = shell.run_line_magic("nextcaller", "2125558383")
try:
    shell.run_cell_magic("nextcaller", "--to calls.csv", "2125558383\n")
    refused = None
except UsageError as exc:
    refused = str(exc)
print(json.dumps({"after_load": after_load, "card": "Jerry Seinfeld" in repr(card), "refused": refused}))
"""


def _notebook(folder, *hidden: str) -> dict:
    # run in a folder of the test's own: the cell writes calls.csv where it runs
    proc = subprocess.run(
        [sys.executable, "-c", _NOTEBOOK, *hidden], capture_output=True, text=True, cwd=folder, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_load_ext_needs_nothing_beyond_ipython(api_env, tmp_path):
    seen = _notebook(tmp_path)
    assert seen["after_load"] == []  # no table, no Slack, no shared state: none of their libraries imported
    assert seen["card"] is True


def test_without_pandas_the_extension_loads_and_a_table_file_names_the_notebook_extra(api_env, tmp_path):
    seen = _notebook(tmp_path, "pandas", "pyarrow")
    assert seen["card"] is True  # %load_ext and a lookup work without pandas
    assert seen["refused"] is not None and "\n" not in seen["refused"]
    assert "pip install 'nextcaller-ops[notebook]'" in seen["refused"]


# -- the demo --------------------------------------------------------------------------------------


def test_the_demo_skips_the_steps_whose_extra_is_missing(monkeypatch, capsys):
    from nextcaller_ops.cli.demo import run_demo

    monkeypatch.setitem(sys.modules, "pandas", None)  # IPython is here; the IPython part needs pandas too
    monkeypatch.setitem(sys.modules, "slack_bolt", None)
    assert run_demo(main) == 0
    out = capsys.readouterr().out
    assert "skipped: the IPython part needs the [notebook] extra: pip install 'nextcaller-ops[notebook]'" in out
    assert "skipped: the Slack part needs the [slack] extra: pip install 'nextcaller-ops[slack]'" in out
    assert "In [1]" not in out and "Socket Mode" not in out  # neither part ran
    assert "fraud risk" in out  # the steps after them did
    assert "2 skipped; pip install 'nextcaller-ops[notebook,slack]' for the whole tour." in out
