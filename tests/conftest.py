"""Shared fixtures: a real sandbox over HTTP, an isolated environment, a file keyring."""

from __future__ import annotations

import logging
import os

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from nextcaller_ops.sandbox import Sandbox

# The real PostgreSQL and Redis (fresh schema / key prefix per test): pg_schema, redis_space.
pytest_plugins = ["tests.support.shared"]

_OUR_VARS = ("NEXTCALLER_", "SLACK_", "PYTHON_KEYRING_BACKEND")


class _KeepEverything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))  # tracebacks included
        except Exception:
            self.lines.append(f"{record.name} unformattable record")


_CAPTURED: list[str] = []


def pytest_runtest_logreport(report):
    # What each test printed (stdout, stderr, log) as pytest captured it, passed tests included.
    for _, content in report.sections:
        _CAPTURED.append(content)


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log_of_the_suite():
    """Every log record the whole suite produces (at DEBUG, tracebacks included) and everything
    pytest captured from the tests' stdout and stderr holds no secret the tests used."""
    from nextcaller_ops import redact

    keeper = _KeepEverything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(keeper)
    root.setLevel(logging.DEBUG)
    yield keeper
    root.removeHandler(keeper)
    root.setLevel(previous)
    from tests.support.secrets import all_secrets

    secrets = set(redact._secrets) | all_secrets()
    leaks = sorted({s for line in keeper.lines + _CAPTURED for s in secrets if s in line})
    assert not leaks, f"secrets found in the suite's logs or output: {[s[:4] + '…' for s in leaks]}"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No test sees the developer's config, keyring, data or credentials."""
    for name in list(os.environ):
        if name.startswith(_OUR_VARS):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEXTCALLER_OPS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("NEXTCALLER_OPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    yield tmp_path


@pytest.fixture
def file_keyring(tmp_path):
    """A real keyring backend (keyrings.alt's file backend) in a temp dir."""
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def sandbox():
    with Sandbox(records=300) as sb:
        yield sb


@pytest.fixture
def api_env(sandbox, monkeypatch):
    """Environment pointing the core at the sandbox with its demo credentials."""
    monkeypatch.setenv("NEXTCALLER_BASE_URL", sandbox.url)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", sandbox.consumer_key)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", sandbox.consumer_secret)
    return sandbox


@pytest.fixture
def api_env_v21(sandbox, monkeypatch):
    """Environment pointing the core at the sandbox's API v2.1 with HTTP Basic (the demo account)."""
    monkeypatch.setenv("NEXTCALLER_BASE_URL", sandbox.url)
    monkeypatch.setenv("NEXTCALLER_API_VERSION", "v2.1")
    monkeypatch.setenv("NEXTCALLER_API_USERNAME", sandbox.api_username)
    monkeypatch.setenv("NEXTCALLER_API_PASSWORD", sandbox.api_password)
    return sandbox


@pytest.fixture(params=["v2", "v2.1"])
def api_version(request):
    """Runs the test twice: the core pointed at the sandbox as API v2 (OAuth 1.0a), then as v2.1 (HTTP Basic)."""
    request.getfixturevalue("api_env_v21" if request.param == "v2.1" else "api_env")
    return request.param


@pytest.fixture
def client(api_env):
    from nextcaller_ops.client.client import NextCallerClient

    slept: list[float] = []
    with NextCallerClient(sleep=slept.append) as nc:
        nc.slept = slept  # type: ignore[attr-defined]
        yield nc
