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


# -- defect 4: pacing in the notebook's bar and summary -------------------------------------------------


def _shown(ip, monkeypatch):
    """Every display bundle the shell publishes (a kernel's outputs), as the kernel would send them."""
    bundles: list[dict] = []
    monkeypatch.setattr(ip, "kernel", object(), raising=False)  # a kernel: the bar is one display, redrawn
    monkeypatch.setattr(ip.display_pub, "publish", lambda data, *a, **k: bundles.append(data))
    return bundles


def test_a_paced_batch_shows_the_rate_and_time_left_then_the_pace_in_the_summary(ip, api_env, monkeypatch):
    from nextcaller_ops.sandbox import synthetic_phone

    api_env.httpd.rate_limit = 5  # the sandbox says X-Rate-Limit-Limit: 5 and refuses past it
    bundles = _shown(ip, monkeypatch)
    ip.run_line_magic("config", "NextCaller.progress = 'text'")
    cell = "\n".join(synthetic_phone(i) for i in range(12))
    ip.run_cell_magic("nextcaller", "-o t --concurrency 4", cell)
    texts = [b.get("text/plain", "") for b in bundles]
    bars = [t for t in texts if t.startswith("nextcaller ")]
    assert any("paced at" in t and "/s" in t for t in bars), bars
    assert any("left" in t for t in bars), bars
    summary = texts[-1]
    assert summary.startswith("12 lines: 12 found") and "paced at" in summary and "the API's limit: 5/s" in summary
    assert "color:#333" not in bundles[-1]["text/html"]


def test_the_summary_names_requests_retried_after_a_429(ip, api_env, monkeypatch, capsys):
    api_env.inject(429, code=1061, retry_after="0")
    api_env.inject(429, code=1061, retry_after="0")
    ip.run_line_magic("config", "NextCaller.progress = 'none'")
    ip.run_cell_magic("nextcaller", "-o t", "2125558383\n3125550142")
    out = capsys.readouterr().out
    assert "2 lines: 2 found" in out and "2 requests retried after a 429" in out


# -- defect 3: the dark theme ---------------------------------------------------------------------------


def test_cards_and_summary_follow_the_notebook_theme(ip, api_env, monkeypatch):
    import re

    from nextcaller_ops.sandbox import HOUSEHOLD_PHONE

    card = ip.run_line_magic("nextcaller", HOUSEHOLD_PHONE)._repr_html_()
    bundles = _shown(ip, monkeypatch)
    ip.run_line_magic("config", "NextCaller.progress = 'text'")
    ip.run_cell_magic("nextcaller", "-o t", "2125558383")
    summary = bundles[-1]["text/html"]
    for page in (card, summary):
        colours = re.findall(r"(?<![-\w])(color|border):([^;\"]+)", page)
        assert colours
        for prop, value in colours:
            # JupyterLab's variable (light or dark theme) with a fallback that follows the page (classic
            # Notebook, exported HTML) — or a fraud badge, which sets its own background beside its text colour
            themed = value.startswith(("var(--jp-", "1px solid var(--jp-"))
            assert themed or "nc-threat" in page.split(f"{prop}:{value}")[0][-200:], (prop, value)
        assert not re.search(r"color:#(333|555|888)\b", page)
    assert "var(--jp-content-font-color1,inherit)" in summary
