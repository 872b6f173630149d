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


# -- budget, dry run, resume in the notebook and enrich() --------------------------------------------------


def _numbers(n):
    from nextcaller_ops.sandbox import synthetic_phone

    return [synthetic_phone(i) for i in range(n)]


def test_cell_max_requests_skips_past_the_budget(ip, api_env, capsys):
    df = ip.run_cell_magic("nextcaller", "--max-requests 2 --concurrency 1", "\n".join(_numbers(5)))
    assert list(df["status"]) == ["found", "found", "skipped", "skipped", "skipped"]
    assert api_env.httpd.request_count == 2
    assert "3 skipped (over the budget of 2 requests)" in capsys.readouterr().out


def test_dry_run_in_a_cell_and_for_enrich_sends_nothing(ip, api_env, capsys):
    pd = pytest.importorskip("pandas")
    ip.run_line_magic("nextcaller", "2125558383")  # now in the cache
    before = api_env.httpd.request_count
    got = ip.run_cell_magic("nextcaller", "--dry-run", "2125558383\n212-555-8383\n3125550142\nbogus\n")
    out = capsys.readouterr().out
    assert got is None and api_env.httpd.request_count == before
    assert "4 rows (1 invalid), 2 distinct, 1 of them in the cache — a real run would make 1 request" in out
    ip.user_ns["calls"] = pd.DataFrame({"phone": ["2125558383", "3125550142", "2025550999"]})
    ip.run_line_magic("nextcaller_enrich", "calls --dry-run")
    out = capsys.readouterr().out
    assert "3 rows, 3 distinct, 1 of them in the cache — a real run would make 2 requests" in out
    assert "status" not in ip.user_ns["calls"] and api_env.httpd.request_count == before


def test_cell_to_file_resume_after_an_interrupt_asks_each_number_once(ip, api_env, monkeypatch, capsys, tmp_path):
    from nextcaller_ops.client.client import NextCallerClient

    numbers = _numbers(6)
    real_lookup = NextCallerClient.lookup
    stop = {"at": numbers[3]}

    def lookup(self, phone, **kw):
        if str(phone) == stop["at"]:
            raise KeyboardInterrupt  # the analyst presses Interrupt at the fourth line
        return real_lookup(self, phone, **kw)

    monkeypatch.setattr(NextCallerClient, "lookup", lookup)
    target = tmp_path / "calls.csv"
    cell = "\n".join(numbers)
    first = ip.run_cell_magic("nextcaller", f"--to {target} --resume --concurrency 1", cell)
    assert list(first["input"]) == numbers[:3]
    stop["at"] = None
    capsys.readouterr()
    from tests.notebook.conftest import magics_of

    asked_first = len(api_env.httpd.signed_requests)
    magics_of(ip)._forget_clients()  # the cache goes, as with a restarted kernel: only the file and ledger stay
    again = ip.run_cell_magic("nextcaller", f"--to {target} --resume --concurrency 1", cell)
    out = capsys.readouterr().out
    assert list(again["input"]) == numbers and list(again["status"]) == ["found"] * 6
    asked_again = [r["query"]["phone"][0] for r in api_env.httpd.signed_requests[asked_first:]]
    assert set(asked_again) == set(numbers[3:]) and len(asked_again) == 3  # the rows in the file: not asked again
    assert "3 rows from the earlier run, not asked again" in out
    assert again["records"].dtype == "Int64" and again["duplicate"].dtype == "boolean"


def test_enrich_resume_and_budget(api_env, tmp_path):
    pd = pytest.importorskip("pandas")
    import nextcaller_ops

    frame = pd.DataFrame({"ticket": list("abcdef"), "phone": _numbers(6)})
    target = tmp_path / "enriched.parquet" if _has_pyarrow() else tmp_path / "enriched.csv"
    first = nextcaller_ops.enrich(frame, "phone", progress=False, max_requests=2, resume=str(target), concurrency=1)
    assert list(first["status"]) == ["found"] * 2 + ["skipped"] * 4 and api_env.httpd.request_count == 2
    again = nextcaller_ops.enrich(frame, "phone", progress=False, resume=str(target), refresh=True)
    assert list(again["status"]) == ["found"] * 6 and api_env.httpd.request_count == 6
    assert list(again["ticket"]) == list("abcdef") and again["name"].notna().all()


def _has_pyarrow():
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


# -- defect 7: the smaller ones -------------------------------------------------------------------------


def test_two_numbers_on_the_line_are_two_lookups(ip, api_env):
    from nextcaller_ops.sandbox import HOUSEHOLD_PHONE

    both = ip.run_line_magic("nextcaller", f"2125558383 {HOUSEHOLD_PHONE}")
    assert [r.phone for r in both] == ["2125558383", HOUSEHOLD_PHONE] and all(r.found for r in both)
    assert "Jerry Seinfeld" in both._repr_html_() and "Sam Rivera" in both._repr_html_()
    assert ip.run_line_magic("nextcaller", "(212) 555-8383").found  # one number in three words is still one


def test_the_users_own_invalid_input_is_echoed_unmasked(ip, api_env):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "2.12556E+09")
    assert "'2.12556E+09'" in str(info.value) and "***" not in str(info.value)
    assert "scientific notation" in str(info.value) and api_env.httpd.request_count == 0


def test_the_help_is_plain_text_not_rest(ip, api_env):
    from nextcaller_ops.notebook import NextCaller

    for name in ("nextcaller", "nextcaller_enrich", "nextcaller_update", "nextcaller_login"):
        doc = getattr(NextCaller, name).__doc__
        assert not doc.lstrip().startswith("::") and doc.lstrip().startswith(f"usage: %{name}")
    info = ip.object_inspect_text("%nextcaller")
    assert "\n::\n" not in info and "usage: %nextcaller" in info


def test_a_refused_setting_is_one_line_without_error_root(ip, capsys, caplog):
    ip.run_line_magic("config", "NextCaller.concurrency = 999")
    err = capsys.readouterr().err
    assert err.strip() == "NextCaller.concurrency = 999 refused: use a whole number from 1 to 256"
    assert not caplog.records


# -- {variable} from the notebook's namespace -------------------------------------------------------------


def test_cell_takes_a_list_a_series_and_a_string_from_the_namespace(ip, api_env):
    pd = pytest.importorskip("pandas")
    from nextcaller_ops.sandbox import HOUSEHOLD_PHONE

    ip.user_ns.update(
        numbers=["2125558383", HOUSEHOLD_PHONE],
        calls=pd.DataFrame({"phone": ["2025550999"]}),
        one="(212) 555-8383",
    )
    ip.run_cell("column = calls['phone']")
    df = ip.run_cell_magic("nextcaller", "", "{numbers}\n{column}\n{one}  # a comment\n")
    assert list(df["phone"]) == ["2125558383", HOUSEHOLD_PHONE, "2025550999", "2125558383"]
    ip.user_ns["how"] = "record"
    df = ip.run_cell_magic("nextcaller", "--rows {how}", "{numbers}")
    assert list(df["name"]) == ["Jerry Seinfeld", "Alex Rivera", "Sam Rivera"]


def test_enrich_takes_a_variable_in_its_line(ip, api_env):
    pd = pytest.importorskip("pandas")
    ip.user_ns.update(calls=pd.DataFrame({"tel": ["2125558383"]}), col="tel", wanted="name,carrier")
    ip.run_line_magic("nextcaller_enrich", "calls --column {col} --fields {wanted}")
    assert list(ip.user_ns["calls"]["name"]) == ["Jerry Seinfeld"]


def test_expansion_evaluates_nothing(ip, api_env, tmp_path):
    marker = tmp_path / "ran"
    ip.user_ns["marker"] = str(marker)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", "", "{open(marker, 'w').write('x')}")
    assert "only {name} is expanded" in str(info.value) and not marker.exists()
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "{__import__('os').getcwd()}")
    assert "nothing is evaluated" in str(info.value)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", "", "{nosuch}")
    assert "no variable named 'nosuch'" in str(info.value)
    with pytest.raises(UsageError) as info:
        ip.user_ns["frame_obj"] = object()
        ip.run_cell_magic("nextcaller", "", "{frame_obj}")
    assert "give a list, a pandas Series" in str(info.value)
    assert api_env.httpd.request_count == 0
