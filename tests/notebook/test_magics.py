"""The IPython extension in an in-process shell: lookups, tables, traits, corrections, credentials.

The same magics in a real kernel, saved and exported, are in ``test_exported_notebook.py``."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError

from nextcaller_ops.notebook import CallerResult
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE
from tests.notebook.conftest import magics_of
from tests.support.common import SEINFELD_ID


def test_line_magic_returns_a_result_with_cards(ip):
    r = ip.run_line_magic("nextcaller", "(212) 555-8383")
    assert isinstance(r, CallerResult) and r.found and r[0].id == SEINFELD_ID
    assert "Jerry Seinfeld" in r._repr_html_() and "nc-threat-low" in r._repr_html_()
    assert "Jerry Seinfeld" in repr(r) and "<" not in repr(r)


def test_several_records_several_cards(ip):
    r = ip.run_line_magic("nextcaller", HOUSEHOLD_PHONE)
    assert r._repr_html_().count('class="nextcaller-card"') == 2


def test_no_record_is_a_sentence(ip):
    r = ip.run_line_magic("nextcaller", "202-555-0999")
    assert not r.found and repr(r) == "No record for (202) 555-0999."


def test_output_variable_and_formats(ip):
    ip.run_line_magic("nextcaller", "2125558383 -o caller --format json")
    assert json.loads(repr(ip.user_ns["caller"]))["records"][0]["id"] == SEINFELD_ID
    x = ip.run_line_magic("nextcaller", "2125558383 --format xml")
    assert repr(x).startswith("<?xml") and x[0].name == "Jerry Seinfeld"


@pytest.mark.parametrize(
    "line,needle",
    [("999", "too short"), ("2125558383 --format yaml", "invalid choice"), ("2125558383 -o 1x", "valid variable")],
)
def test_errors_are_usage_errors(ip, api_env, line, needle):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", line)
    assert needle in str(info.value)
    assert api_env.httpd.request_count == 0


def test_cell_magic_dataframe_in_order_dedupe(ip, api_env):
    shown = ip.run_cell_magic(
        "nextcaller",
        "-o calls --concurrency 3",
        "2125558383\n# comment\n\n(212) 555-8383\nbogus\n2025550999  # missing\n",
    )
    df = ip.user_ns["calls"]
    assert shown is None  # -o: stored, not shown again
    assert list(df["input"]) == ["2125558383", "(212) 555-8383", "bogus", "2025550999"]
    assert list(df["status"]) == ["found", "found", "invalid", "not_found"]
    assert list(df["duplicate"]) == [False, True, False, False]
    assert df.loc[0, "name"] == "Jerry Seinfeld"
    assert api_env.httpd.request_count == 2


def test_cached_numbers_are_not_fetched_again(ip, api_env):
    ip.run_line_magic("nextcaller", "2125558383")
    ip.run_cell_magic("nextcaller", "", "2125558383\n")
    assert api_env.httpd.request_count == 1


def test_traits_via_config(ip):
    ip.run_line_magic("config", "NextCaller.concurrency = 5")
    ip.run_line_magic("config", "NextCaller.return_dataframe = False")
    assert magics_of(ip).concurrency == 5
    rows = ip.run_cell_magic("nextcaller", "", "2125558383\n")
    assert isinstance(rows, list) and rows[0]["status"] == "found"


def test_without_pandas_a_list_and_a_hint(ip, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *a, **kw):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    rows = ip.run_cell_magic("nextcaller", "", "2125558383\n")
    assert isinstance(rows, list) and "pandas is not installed" in capsys.readouterr().err


def test_update_shows_what_changed_and_reaches_the_api(ip, api_env):
    ip.run_line_magic("nextcaller", "2125558383")  # the record is now known: old → new, only real changes
    r = ip.run_line_magic(
        "nextcaller_update", f'{SEINFELD_ID} email=jerry@example.com first_name=Jerry "shipping_address1.line2=Apt 5B"'
    )
    assert r.sent == {"email": "jerry@example.com", "shipping_address1.line2": "Apt 5B"}
    assert "'demo@nextcaller.com' → 'jerry@example.com'" in repr(r)
    assert api_env.store.corrections(SEINFELD_ID)[-1]["body"] == {
        "email": "jerry@example.com",
        "shipping_address1": {"line2": "Apt 5B"},
    }
    assert ip.run_line_magic("nextcaller", "2125558383")[0].email == "jerry@example.com"


def test_update_refuses_unknown_fields_without_request(ip, api_env):
    with pytest.raises(UsageError):
        ip.run_line_magic("nextcaller_update", f"{SEINFELD_ID} shoe_size=9")
    assert api_env.httpd.request_count == 0


def test_login_logout_with_a_file_keyring(ip, api_env, file_keyring, monkeypatch, capsys):
    monkeypatch.delenv("NEXTCALLER_CONSUMER_KEY")
    monkeypatch.delenv("NEXTCALLER_CONSUMER_SECRET")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": api_env.consumer_secret)
    ip.run_line_magic("nextcaller_login", f"--base-url {api_env.url} --consumer-key {api_env.consumer_key}")
    out = capsys.readouterr().out
    assert "EG2D…3SE3" in out and api_env.consumer_secret not in out
    assert ip.run_line_magic("nextcaller", "2125558383").found
    ip.run_line_magic("nextcaller_logout", "")
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "2125558383")
    assert "login" in str(info.value)


def test_missing_credentials_is_one_line(ip, monkeypatch, file_keyring):
    monkeypatch.delenv("NEXTCALLER_CONSUMER_KEY")
    monkeypatch.delenv("NEXTCALLER_CONSUMER_SECRET")
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "2125558383")
    assert "no consumer key" in str(info.value)


def test_interrupt_returns_the_rows_done_so_far(ip, monkeypatch, capsys):
    from nextcaller_ops.client.client import NextCallerClient

    real_lookup = NextCallerClient.lookup

    def lookup(self, phone, **kw):
        if str(phone) == "2025550999":
            raise KeyboardInterrupt  # the analyst presses Interrupt while the third line is being fetched
        return real_lookup(self, phone, **kw)

    monkeypatch.setattr(NextCallerClient, "lookup", lookup)
    df = ip.run_cell_magic("nextcaller", "", "2125558383\n3125550142\n2025550999\n2125550100\n")
    assert list(df["input"]) == ["2125558383", "3125550142"]
    out, err = capsys.readouterr()
    assert "Interrupted: returning the 2 of 4 rows done so far." in err
    assert "4 lines: 2 found" in out and "interrupted: 2 of 4 done" in out


def test_status_magic_shows_masked_key_and_a_live_check(ip, api_env, capsys):
    ip.run_line_magic("nextcaller_status", "")
    out = capsys.readouterr().out
    assert "EG2D…3SE3 (from env)" in out and "API:      ok" in out and api_env.url in out
    assert api_env.consumer_secret not in out


def test_a_bar_is_finished_even_when_the_batch_fails_unexpectedly(ip, monkeypatch):
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.notebook import tables

    class Bar:
        finished = None

        def start(self, total):
            pass

        def advance(self, done):
            pass

        def finish(self, summary):
            Bar.finished = summary

    def broken(self, phone, **kw):
        raise RuntimeError("a bug")

    monkeypatch.setattr(tables, "make_progress", lambda shell, mode: Bar())
    monkeypatch.setattr(NextCallerClient, "lookup", broken)
    with pytest.raises(RuntimeError):
        ip.run_cell_magic("nextcaller", "", "2125558383\n")
    assert Bar.finished is not None and Bar.finished.done == 0
