"""The notebook on an analyst's day (issue 24): one profile rule, login against NEXTCALLER_BASE_URL,
pacing shown, the dark theme, resume, a budget, dry runs, {variable} expansion and the smaller defects."""

from __future__ import annotations

import io
import tomllib

import pytest
from IPython.core.error import UsageError

from nextcaller_ops.cli.main import main
from nextcaller_ops.config import config_path


def _no_env_credentials(monkeypatch):
    monkeypatch.delenv("NEXTCALLER_CONSUMER_KEY", raising=False)
    monkeypatch.delenv("NEXTCALLER_CONSUMER_SECRET", raising=False)


def _cli_login(api_env, monkeypatch, capsys, *extra):
    monkeypatch.setattr("sys.stdin", io.StringIO(api_env.consumer_secret + "\n"))
    code = main(["login", "--consumer-key", api_env.consumer_key, "--secret-stdin", *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _config():
    return tomllib.loads(config_path().read_text()) if config_path().exists() else {}


# -- defect 1: one profile rule everywhere -----------------------------------------------------------


def test_a_first_login_does_not_silently_become_the_default(api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    out = _cli_login(api_env, monkeypatch, capsys, "--profile", "sb")
    assert "profile" not in _config()
    assert "Lookups use profile 'default'" in out and "--make-default" in out
    assert main(["lookup", "2125558383"]) == 2  # 'default' has no key: lookups did not move to 'sb'
    assert main(["lookup", "2125558383", "--profile", "sb"]) == 0
    capsys.readouterr()


def test_make_default_is_explicit_said_and_undone_by_logout(api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    out = _cli_login(api_env, monkeypatch, capsys, "--profile", "sb", "--make-default")
    assert _config()["profile"] == "sb" and "'sb' is now the default profile" in out
    assert main(["lookup", "2125558383"]) == 0
    assert main(["logout", "--profile", "sb"]) == 0
    out = capsys.readouterr().out
    assert "no longer the default profile" in out and "profile" not in _config()


def test_notebook_login_stores_where_lookups_read(ip, api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    from nextcaller_ops.config import save_profile_settings

    save_profile_settings("sb", make_default=True)  # a config whose default is 'sb' (an older first login)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": api_env.consumer_secret)
    ip.run_line_magic("nextcaller_login", f"--consumer-key {api_env.consumer_key}")
    out = capsys.readouterr().out
    assert "for profile 'sb'" in out
    assert ip.run_line_magic("nextcaller", "2125558383").found  # the same profile, found
    ip.run_line_magic("nextcaller_status", "")
    assert "profile:  sb" in capsys.readouterr().out
    import nextcaller_ops

    frame = pytest.importorskip("pandas").DataFrame({"phone": ["2125558383"]})
    assert list(nextcaller_ops.enrich(frame, "phone", progress=False)["status"]) == ["found"]


def test_notebook_profile_env_counts_before_the_configs_default(ip, api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    monkeypatch.setenv("NEXTCALLER_PROFILE", "team")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": api_env.consumer_secret)
    ip.run_line_magic("nextcaller_login", f"--consumer-key {api_env.consumer_key}")
    assert "for profile 'team'" in capsys.readouterr().out
    assert ip.run_line_magic("nextcaller", "2125558383").found


# -- defect 2: %nextcaller_login and NEXTCALLER_BASE_URL, --no-verify -----------------------------------


def test_notebook_login_verifies_against_the_base_url_lookups_use(ip, api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": api_env.consumer_secret)
    before = api_env.httpd.request_count
    ip.run_line_magic("nextcaller_login", f"--consumer-key {api_env.consumer_key}")
    out = capsys.readouterr().out
    assert f"verified with {api_env.url}" in out and api_env.httpd.request_count == before + 1
    assert "base_url" not in (_config().get("profiles", {}).get("default", {})) or (
        _config()["profiles"]["default"]["base_url"] != api_env.url
    )  # the environment's URL is checked, not saved over the profile's


def test_notebook_login_no_verify_sends_nothing(ip, api_env, monkeypatch, capsys, file_keyring):
    _no_env_credentials(monkeypatch)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": api_env.consumer_secret)
    before = api_env.httpd.request_count
    ip.run_line_magic("nextcaller_login", f"--consumer-key {api_env.consumer_key} --no-verify")
    out = capsys.readouterr().out
    assert "not verified" in out and api_env.httpd.request_count == before
    assert ip.run_line_magic("nextcaller", "2125558383").found


def test_notebook_login_refused_key_is_one_line(ip, api_env, monkeypatch, file_keyring):
    _no_env_credentials(monkeypatch)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wrong")
    with pytest.raises(UsageError):
        ip.run_line_magic("nextcaller_login", f"--consumer-key {api_env.consumer_key}")
