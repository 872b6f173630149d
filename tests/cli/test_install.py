"""The package as a user gets it: sdist and wheel built from this tree, the wheel installed bare in a fresh venv.

One build per session (module-scoped fixtures): a venv with setuptools builds the sdist, the wheel is
built from the unpacked sdist (so the sdist is complete), and a second venv gets ``pip install WHEEL``
— the base dependencies only, from the package index (pip's cache makes it quick).  There, with
neither IPython nor any Slack library importable, the CLI looks a number up in the sandbox (run
from that venv too), ``bot`` names the [slack] extra, and ``demo`` runs and says what it skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.common import ROOT

# Not in the base install: each belongs to an extra (or to the dev tools).
NOT_IN_BASE = ("IPython", "pandas", "pyarrow", "slack_bolt", "slack_sdk", "websockets", "gunicorn", "yaml",
               "psycopg", "psycopg_pool", "redis", "keyrings", "pytest")  # fmt: skip
_IGNORED = shutil.ignore_patterns(
    ".venv", ".git", ".mypy_cache", ".pytest_cache", ".hypothesis", ".ruff_cache", "__pycache__",
    "build", "dist", "*.egg-info", "*.sqlite3", "results.json", "*-results.json",
)  # fmt: skip
# pip's words when the package index cannot be reached (a machine without network): skip, unless CI
_OFFLINE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable", "ProxyError")


def _run(*cmd: str | Path, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def _checked(proc: subprocess.CompletedProcess, what: str) -> subprocess.CompletedProcess:
    if proc.returncode != 0:
        out = proc.stdout + proc.stderr
        if any(sign in out for sign in _OFFLINE) and os.environ.get("CI") != "true":
            pytest.skip(f"{what}: the package index is not reachable from here")
        raise AssertionError(f"{what} failed ({proc.returncode}):\n{out[-4000:]}")
    return proc


def _pip_env() -> dict[str, str]:
    """This environment without what would make a venv's Python see this checkout or another venv."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _venv(where: Path) -> Path:
    _checked(_run(sys.executable, "-m", "venv", where, env=_pip_env()), "python -m venv")
    return where / "bin"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built from a copy of this working tree (symlinks kept as symlinks)."""
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    shutil.copytree(ROOT, src, symlinks=True, ignore=_IGNORED)
    builder = _venv(work / "builder")
    _checked(_run(builder / "python", "-m", "pip", "install", "-q", "setuptools>=77", env=_pip_env()), "setuptools")
    hook = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"
    dist = work / "dist"
    dist.mkdir()
    name = _checked(_run(builder / "python", "-c", hook, "build_sdist", dist, cwd=src, env=_pip_env()), "sdist")
    sdist = dist / name.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "unpacked", filter="data")
    unpacked = next((work / "unpacked").iterdir())
    name = _checked(_run(builder / "python", "-c", hook, "build_wheel", dist, cwd=unpacked, env=_pip_env()), "wheel")
    return {"sdist": sdist, "wheel": dist / name.stdout.strip().splitlines()[-1]}


@pytest.fixture(scope="module")
def bare(built, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its base dependencies only; its bin directory."""
    bin_dir = _venv(tmp_path_factory.mktemp("bare") / "venv")
    _checked(_run(bin_dir / "python", "-m", "pip", "install", "-q", built["wheel"], env=_pip_env()), "pip install")
    return bin_dir


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


def _user_env(home: Path, **extra: str) -> dict[str, str]:
    """What a person's shell would hold: no PYTHONPATH, nothing of ours but what is given."""
    env = {k: v for k, v in _pip_env().items() if not k.startswith(("NEXTCALLER_", "SLACK_", "PYTHON_KEYRING"))}
    env.update(
        HOME=str(home), NEXTCALLER_OPS_CONFIG_DIR=str(home / "config"), NEXTCALLER_OPS_DATA_DIR=str(home / "data")
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def sandbox_env(bare, home) -> Iterator[dict[str, str]]:
    """``nextcaller-ops sandbox`` from the bare venv; the environment that points the CLI at it."""
    proc = subprocess.Popen(
        [bare / "nextcaller-ops", "sandbox", "--port", "0", "--records", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_user_env(home),
        cwd=home,
    )
    try:
        banner = ""
        for line in proc.stdout:  # up to "Ctrl-C stops it." (less if it died: then the asserts say so)
            banner += line
            if line.startswith("Ctrl-C"):
                break
        found = {
            name: re.search(rf"{name}=(\S+)", banner)
            for name in ("NEXTCALLER_BASE_URL", "NEXTCALLER_CONSUMER_KEY", "NEXTCALLER_CONSUMER_SECRET")
        }
        assert all(found.values()), banner + (proc.stderr.read() if proc.poll() is not None else "")
        yield _user_env(home, **{name: m.group(1) for name, m in found.items() if m})
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _cli(bare: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return _run(bare / "nextcaller-ops", *args, env=env, cwd=env["HOME"], timeout=timeout)


# -- what is (not) installed -------------------------------------------------------------------------


def test_the_bare_install_has_no_front_end_library(bare, home):
    code = (
        "import importlib.util, json, sys\n"
        f"print(json.dumps([m for m in {NOT_IN_BASE!r} if importlib.util.find_spec(m) is not None]))"
    )
    proc = _checked(_run(bare / "python", "-c", code, env=_user_env(home), cwd=home), "find_spec")
    assert json.loads(proc.stdout) == []
    assert _run(bare / "python", "-c", "import IPython", env=_user_env(home), cwd=home).returncode == 1


def test_phone_numbers_come_without_the_geodata(bare, home):
    code = (
        "import importlib.metadata as md, importlib.util, phonenumbers\n"
        "have = lambda d: any(x.metadata['Name'].lower() == d for x in md.distributions())\n"
        "print(have('phonenumberslite'), have('phonenumbers'), importlib.util.find_spec('phonenumbers.geodata'))"
    )
    proc = _checked(_run(bare / "python", "-c", code, env=_user_env(home), cwd=home), "phonenumbers")
    assert proc.stdout.split() == ["True", "False", "None"]


def test_every_module_of_the_core_imports_on_the_bare_install(bare, home):
    # The notebook is IPython's (its extra); everything else must import with the base dependencies alone.
    code = (
        "import importlib, pkgutil, nextcaller_ops\n"
        "names = [m.name for m in pkgutil.walk_packages(nextcaller_ops.__path__, 'nextcaller_ops.')\n"
        "         if not m.name.startswith(('nextcaller_ops.notebook', 'nextcaller_ops.__main__'))]\n"
        "for name in names:\n    importlib.import_module(name)\n"
        "print(len(names), nextcaller_ops.__file__)"
    )
    proc = _checked(_run(bare / "python", "-c", code, env=_user_env(home), cwd=home), "importing the core")
    count, where = proc.stdout.split()
    assert int(count) > 30 and str(bare.parent) in where  # the installed wheel, not this checkout


# -- the CLI on the bare install --------------------------------------------------------------------


def test_a_lookup_works_against_the_sandbox(bare, sandbox_env):
    proc = _cli(bare, sandbox_env, "lookup", "2125558383")
    assert proc.returncode == 0, proc.stderr
    assert "Jerry Seinfeld" in proc.stdout and "Traceback" not in proc.stderr
    status = _cli(bare, sandbox_env, "status")
    assert status.returncode == 0, status.stdout + status.stderr


def test_bot_names_the_slack_extra_in_one_line(bare, home):
    env = _user_env(home, SLACK_BOT_TOKEN="xoxb-not-used", SLACK_SIGNING_SECRET="not-used")
    proc = _cli(bare, env, "bot", "--http", "--host", "127.0.0.1", "--port", "0")
    assert proc.returncode == 2
    assert proc.stderr == "error: the Slack bot needs the [slack] extra: pip install 'nextcaller-ops[slack]'\n"


def test_the_demo_runs_and_says_what_it_skipped(bare, home):
    proc = _cli(bare, _user_env(home), "demo", timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "skipped: the IPython part needs the [notebook] extra: pip install 'nextcaller-ops[notebook]'" in out
    assert "skipped: the Slack part needs the [slack] extra: pip install 'nextcaller-ops[slack]'" in out
    assert "Jerry Seinfeld" in out and "fraud risk" in out and "Traceback" not in out
    assert re.findall(r"^=== (\d+)\. ", proc.stdout, flags=re.M) == [str(n) for n in range(1, 9)]
    assert "demo: all steps done but 2 skipped; pip install 'nextcaller-ops[notebook,slack]'" in proc.stdout


def test_slack_manifest_works_without_pyyaml(bare, home):
    plain = _cli(bare, _user_env(home), "slack-manifest")
    assert plain.returncode == 0 and plain.stdout == (ROOT / "manifest.yml").read_text().rstrip("\n") + "\n"
    url = "https://bot.example.com/slack/events"
    http = _cli(bare, _user_env(home), "slack-manifest", "--http", "https://bot.example.com")
    assert http.returncode == 0, http.stderr
    manifest = yaml.safe_load(http.stdout)
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["socket_mode_enabled"] is False


# -- what the files carry -----------------------------------------------------------------------------


def test_the_wheel_carries_the_manifest_as_a_file_and_the_metadata(built):
    with zipfile.ZipFile(built["wheel"]) as whl:
        names = whl.namelist()
        shipped = whl.read("bot/manifest.yml").decode()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = whl.read(meta_name).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert shipped == (ROOT / "manifest.yml").read_text()
    assert "nextcaller_ops/stores/migrations/0001_initial.sql" in names or any(
        n.startswith("nextcaller_ops/stores/migrations/") and n.endswith(".sql") for n in names
    )
    assert not any(n.startswith("tests/") for n in names)  # the tests go in the sdist, not the wheel
    assert "License-Expression: MIT" in meta and "Keywords:" in meta
    assert "Classifier: Programming Language :: Python :: 3.11" in meta
    assert "Project-URL: Homepage, https://github.com/nextcaller-ops/nextcaller-ops" in meta
    requires = [line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    base = {re.split(r"[<>=\[; ]", r, maxsplit=1)[0].lower() for r in requires if "extra ==" not in r}
    assert base == {"requests", "requests-oauthlib", "oauthlib", "keyring", "phonenumberslite", "defusedxml",
                    "platformdirs", "tomli-w", "tqdm", "python-json-logger"}  # fmt: skip
    assert any(r.startswith("slack-bolt") and "<2" in r and 'extra == "slack"' in r for r in requires)


def test_the_sdist_carries_the_tests_and_the_documents(built):
    with tarfile.open(built["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        manifest = tar.getmember(next(m for m in tar.getnames() if m.endswith("/manifest.yml") and m.count("/") == 1))
        assert manifest.isfile()
    for path in ("README.md", "LICENSE", "CONTRIBUTING.md", "BENCHMARKS.md", "manifest.yml", "Makefile",
                 "bot/manifest.yml", "tests/conftest.py", "tests/cli/test_install.py", "tests/support/common.py"):  # fmt: skip
        assert path in names, path
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
