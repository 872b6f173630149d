"""The IPython extension: shell-level tests of parsing and traits, and a real kernel via nbclient."""

from __future__ import annotations

import json

import nbformat
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient

from nextcaller_ops.notebook import CallerResult, NextCaller
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE
from tests.support.common import SEINFELD_ID
from tests.support.secrets import NB_SECRET


@pytest.fixture
def ip(api_env):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


def magics_of(shell) -> NextCaller:
    return next(m for m in shell.configurables if isinstance(m, NextCaller))


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
    df = ip.run_cell_magic(
        "nextcaller",
        "-o calls --concurrency 3",
        "2125558383\n# comment\n\n(212) 555-8383\nbogus\n2025550999  # missing\n",
    )
    assert ip.user_ns["calls"] is df
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


# -- a real kernel ------------------------------------------------------------------------


def test_real_notebook_in_a_kernel(sandbox, monkeypatch, tmp_path):
    sandbox.store.add_consumer("NBKEY0000000000001", NB_SECRET)
    monkeypatch.setenv("NEXTCALLER_BASE_URL", sandbox.url)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NBKEY0000000000001")
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", NB_SECRET)
    cells = [
        "%load_ext nextcaller_ops",
        "%nextcaller (212) 555-8383",
        "r = %nextcaller 2125558383\n(type(r).__name__, r[0].name, r.cached)",
        "%nextcaller 12345",
        "%%nextcaller -o calls\n2125558383\n3125550142\n2125558383\n2025550999",
        "list(calls['status']), list(calls['duplicate'])",
        f"%nextcaller_update {SEINFELD_ID} email=jerry@example.com",
        "%env NEXTCALLER_CONSUMER_KEY=NOSUCHKEY1\n%nextcaller 3125550142 --refresh",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outs = [c.outputs for c in nb.cells]

    card = outs[1][0]["data"]
    assert "text/html" in card and "Jerry Seinfeld" in card["text/html"] and "#2e7d32" in card["text/html"]
    assert "Jerry Seinfeld" in card["text/plain"]
    assert outs[2][0]["data"]["text/plain"] == "('CallerResult', 'Jerry Seinfeld', True)"

    # IPython shows a UsageError as one line on stderr: no traceback
    (err,) = outs[3]
    assert err["output_type"] == "stream" and err["name"] == "stderr"
    assert err["text"].startswith("UsageError: not a phone number") and "too short" in err["text"]
    assert err["text"].count("\n") == 1 and "Traceback" not in err["text"]

    assert outs[5][0]["data"]["text/plain"] == (
        "(['found', 'found', 'found', 'not_found'], [False, False, True, False])"
    )
    assert "jerry@example.com" in outs[6][0]["data"]["text/plain"]
    assert sandbox.store.corrections(SEINFELD_ID)[-1]["body"] == {"email": "jerry@example.com"}
    # duplicate fetched once: 2125558383 (cell 2, then cached), 3125550142, 2025550999, the GET before the update
    paths = [r["path"] for r in sandbox.httpd.signed_requests]
    assert paths.count("/v2/records/") == 3

    auth_err = [o for o in outs[7] if o.get("name") == "stderr"][-1]["text"]
    assert auth_err.startswith("UsageError: [1046]") and auth_err.count("\n") == 1
    assert not any(o["output_type"] == "error" for cell in outs for o in cell)

    saved = tmp_path / "run.ipynb"
    nbformat.write(nb, saved)
    assert NB_SECRET not in saved.read_text()


def test_interrupt_returns_the_rows_done_so_far(ip, monkeypatch, capsys):
    class InterruptingBar:
        def __init__(self):
            self.n = 0

        def update(self, k):
            self.n += k
            if self.n == 2:
                raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(NextCaller, "_progress", lambda self, total: InterruptingBar())
    df = ip.run_cell_magic("nextcaller", "", "2125558383\n3125550142\n2025550999\n2125550100\n")
    assert list(df["input"]) == ["2125558383", "3125550142"]
    assert "Interrupted: returning the 2 of 4 rows" in capsys.readouterr().err


def test_status_magic_shows_masked_key_and_a_live_check(ip, api_env, capsys):
    ip.run_line_magic("nextcaller_status", "")
    out = capsys.readouterr().out
    assert "EG2D…3SE3 (from env)" in out and "API:      ok" in out and api_env.url in out
    assert api_env.consumer_secret not in out
