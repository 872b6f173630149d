"""Issue 20, item 14: no password or signature in clear over plain http to another machine.

An ``http://`` base URL on a host that is not loopback (127.0.0.0/8, ::1, localhost)
is refused before any request, naming the setting it came from; only
``NEXTCALLER_ALLOW_INSECURE_HTTP=1`` (a lab proxy) lets it through.  https, and http
to this machine (the sandbox), are accepted.
"""

from __future__ import annotations

import io
import os
import socket

import pytest

from nextcaller_ops.cli._common import error_line
from nextcaller_ops.cli.main import main
from nextcaller_ops.config import Settings, load_settings, save_profile_settings
from nextcaller_ops.errors import Action, InsecureTransportError, UsageError

ALLOW = "NEXTCALLER_ALLOW_INSECURE_HTTP"


@pytest.fixture
def no_connection(monkeypatch):
    """Every outgoing connection attempt in this process, recorded (and refused)."""
    attempts: list[object] = []
    real = socket.socket.connect

    def connect(self, address):  # type: ignore[no-untyped-def]
        attempts.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        "https://api.nextcaller.com",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000",
        "http://[::1]:9000",
        "https://10.0.0.5",
    ],
)
def test_https_and_loopback_http_are_accepted(monkeypatch, url):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", url)
    assert load_settings().base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example.com",
        "http://10.0.0.5:8080",
        "http://[2001:db8::1]",
        "http://localhost.example.com",
        "http://127.0.0.1.example.com",
        "http://0.0.0.0:8080",
    ],
)
def test_plain_http_elsewhere_is_refused_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", url)
    with pytest.raises(InsecureTransportError) as caught:
        load_settings()
    assert isinstance(caught.value, UsageError) and caught.value.action is Action.USE_HTTPS
    assert "NEXTCALLER_BASE_URL" in caught.value.message and "in clear" in str(caught.value)
    assert "use an https:// URL" in error_line(caught.value)


def test_the_config_file_and_the_argument_are_named(monkeypatch):
    save_profile_settings("lab", base_url="http://api.example.com")
    with pytest.raises(InsecureTransportError, match=r"base_url in .*config\.toml"):
        load_settings("lab")
    with pytest.raises(InsecureTransportError, match="--base-url"):
        load_settings(base_url="http://api.example.com")


def test_a_password_in_the_url_is_not_repeated(monkeypatch):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "http://user:pw-in-url-0x1@api.example.com:8080/")
    with pytest.raises(InsecureTransportError) as caught:
        load_settings()
    assert "pw-in-url-0x1" not in str(caught.value) and "api.example.com:8080" in str(caught.value)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_the_override_lets_a_lab_proxy_through(monkeypatch, value):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "http://proxy.lab.example:8080")
    monkeypatch.setenv(ALLOW, value)
    assert load_settings().base_url == "http://proxy.lab.example:8080"


def test_the_override_is_read_from_the_process_even_with_an_explicit_env(monkeypatch):
    """``login`` reads settings with ``env={}`` (so NEXTCALLER_BASE_URL does not override --base-url)."""
    monkeypatch.setenv(ALLOW, "1")
    assert load_settings(env={}, base_url="http://proxy.lab.example").base_url == "http://proxy.lab.example"


def test_zero_is_not_an_override(monkeypatch):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "http://api.example.com")
    monkeypatch.setenv(ALLOW, "0")
    with pytest.raises(InsecureTransportError):
        load_settings()


def test_a_client_built_from_settings_by_hand_refuses_too(no_connection):
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.credentials import Credentials

    creds = Credentials("insecure-http-key", "insecure-http-secret-7d3e", source="explicit", auth="basic")
    with pytest.raises(InsecureTransportError, match="base URL"):
        NextCallerClient(creds, Settings(base_url="http://api.example.com", api_version="v2.1"))
    assert no_connection == []


@pytest.mark.parametrize("version", ["v2", "v2.1"])
def test_the_cli_refuses_with_exit_2_and_no_connection(monkeypatch, capsys, no_connection, version):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "http://api.example.com")
    monkeypatch.setenv("NEXTCALLER_API_VERSION", version)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "insecure-key")
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", "insecure-secret")
    monkeypatch.setenv("NEXTCALLER_API_USERNAME", "insecure-user")
    monkeypatch.setenv("NEXTCALLER_API_PASSWORD", "insecure-password")
    code = main(["lookup", "2125558383"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "NEXTCALLER_BASE_URL" in line and "NEXTCALLER_ALLOW_INSECURE_HTTP=1" in line
    assert no_connection == []


def test_login_refuses_before_asking_for_the_secret(monkeypatch, capsys, file_keyring, no_connection):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing to read: the refusal comes first
    code = main(["login", "--base-url", "http://api.example.com", "--consumer-key", "KEYKEYKEY", "--secret-stdin"])
    _out, err = capsys.readouterr()
    assert code == 2 and "--base-url" in err and no_connection == []
    assert file_keyring.get_password("nextcaller-ops:default", "consumer_key") is None


def test_the_cli_with_the_override_talks_to_a_plain_http_api(monkeypatch, capsys, api_env):
    """The sandbox on 127.0.0.1 works without the override; under another name, only with it.

    Linux connects 0.0.0.0 to this machine, but it is not a loopback address: refused unless allowed.
    """
    assert main(["lookup", "2125558383"]) == 0
    monkeypatch.setenv("NEXTCALLER_BASE_URL", api_env.url.replace("127.0.0.1", "0.0.0.0"))
    assert main(["lookup", "2125558383", "--refresh"]) == 2
    assert api_env.httpd.request_count == 1
    monkeypatch.setenv(ALLOW, "1")
    assert main(["lookup", "2125558383", "--refresh"]) == 0
    assert api_env.httpd.request_count == 2


def test_the_notebook_refuses_in_one_line(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("NEXTCALLER_BASE_URL", "http://api.example.com")
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "insecure-key")
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", "insecure-secret")
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "nextcaller_ops")
        from IPython.core.error import UsageError as IPythonUsageError

        with pytest.raises(IPythonUsageError, match=r"NEXTCALLER_BASE_URL.*NEXTCALLER_ALLOW_INSECURE_HTTP=1"):
            shell.run_line_magic("nextcaller", "2125558383")
    finally:
        shell.run_line_magic("unload_ext", "nextcaller_ops")
        InteractiveShell.clear_instance()


@pytest.mark.timeout(90)
def test_the_bot_refuses_at_start_in_one_line(tmp_path):
    """``bot --http`` with an http:// API elsewhere: exit 2 before any store, Slack or API call."""
    from tests.support.common import run_cli
    from tests.support.procs import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "data"),
        NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "config"),
        NEXTCALLER_BASE_URL="http://api.example.com",
        NEXTCALLER_API_VERSION="v2.1",
        NEXTCALLER_API_USERNAME="insecure-user",
        NEXTCALLER_API_PASSWORD="insecure-password",
        SLACK_BOT_TOKEN="xoxb-not-a-real-token",
        SLACK_SIGNING_SECRET="not-a-real-signing-secret",
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # nothing listens: never reached
    )
    done = run_cli("bot", "--http", "--host", "127.0.0.1", "--port", str(free_port()), env=env)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "NEXTCALLER_BASE_URL is http://api.example.com" in line and "NEXTCALLER_ALLOW_INSECURE_HTTP=1" in line
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
