"""API v2.1 in a notebook: ``%nextcaller --email``, ``--fraud``, and the same in ``%%nextcaller`` — in a shell and a kernel."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from nbclient import NotebookClient

from nextcaller_ops.sandbox import HOUSEHOLD_PHONE
from tests.support.common import SEINFELD_ID


@pytest.fixture
def ip21(api_env_v21):
    """The extension in a real ``InteractiveShell``, the profile speaking API v2.1 (HTTP Basic)."""
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


def test_email_line_shows_the_cards_with_the_v21_fields(ip21):
    r = ip21.run_line_magic("nextcaller", "--email demo@nextcaller.com")
    assert r.found and r.email == "demo@nextcaller.com" and r[0].id == SEINFELD_ID
    page = r._repr_html_()
    for label, value in (("Line type", "LAN"), ("Age", "45-54"), ("Spoofed", "no")):
        assert f">{label}</th><td" in page and value in page
    assert "https://twitter.com/nextcaller" in page
    missing = ip21.run_line_magic("nextcaller", "--email nobody@example.org -o who")
    assert repr(missing) == "No record for nobody@example.org." and ip21.user_ns["who"] is missing
    as_json = ip21.run_line_magic("nextcaller", "--email demo@nextcaller.com --format json")
    assert as_json._repr_json_()["records"][0]["phone"][0]["line_type"] == "LAN"


def test_fraud_line_is_a_badge(ip21):
    r = ip21.run_line_magic("nextcaller", "--fraud (312) 555-0142")
    assert (r.phone, r.spoofed, r.fraud_risk) == (HOUSEHOLD_PHONE, "true", "high")
    assert repr(r) == "(312) 555-0142  fraud risk 🔴 high · spoofed: ⚠️ yes — the caller ID may be spoofed"
    assert 'class="nc-threat nc-threat-high"' in r._repr_html_() and r.document == {
        "spoofed": "true",
        "fraud_risk": "high",
    }


def test_a_cell_with_fraud_adds_the_fraud_columns_and_v21_s(ip21, api_env_v21):
    df = ip21.run_cell_magic("nextcaller", "--fraud", f"2125558383\n{HOUSEHOLD_PHONE}\n212-555-8383\nnot a number\n")
    assert isinstance(df, pd.DataFrame) and list(df["status"]) == ["found", "found", "found", "invalid"]
    assert list(df["fraud_risk"].fillna("")) == ["low", "high", "low", ""]
    assert list(df["spoofed"].fillna("")) == ["false", "true", "false", ""]
    assert df.loc[0, "line_type"] == "LAN" and df.loc[0, "age"] == "45-54"
    assert list(df.columns[-3:]) == ["spoofed", "fraud_risk", "error"]
    paths = [r["path"] for r in api_env_v21.httpd.signed_requests]
    assert paths.count("/v2.1/fraud/") == 2 and paths.count("/v2.1/records/") == 2  # the repeat is fetched once


def test_a_cell_of_email_addresses(ip21, api_env_v21):
    df = ip21.run_cell_magic(
        "nextcaller", "--email --rows record", "demo@nextcaller.com\nalex.rivera@example.com  # the household\nnope\n"
    )
    assert list(df["status"]) == ["found", "found", "invalid"]
    assert list(df["name"].fillna("")) == ["Jerry Seinfeld", "Alex Rivera", ""]
    assert df["phone"].isna().all() and "line_type" in df.columns and "spoofed" not in df.columns
    assert api_env_v21.httpd.request_count == 2


@pytest.mark.parametrize(
    "line,cell,needle",
    [
        ("--email", None, "give the address"),
        ("--email demo@nextcaller.com --fraud", None, "one at a time"),
        ("--email demo@nextcaller.com 2125558383", None, "not both"),
        ("--email demo.nextcaller.com", None, "not an email address"),
        ("--email demo@nextcaller.com --format xml", None, "--format xml"),
        ("--fraud", None, "give a number"),
        ("--email demo@nextcaller.com", "x@y.com\n", "the cell holds the addresses"),
        ("--email --fraud", "x@y.com\n", "one at a time"),
        ("--email", "\n# nothing\n", "the cell has no addresses"),
    ],
)
def test_refusals_are_one_line_and_cost_nothing(ip21, api_env_v21, line, cell, needle):
    with pytest.raises(UsageError) as caught:
        if cell is None:
            ip21.run_line_magic("nextcaller", line)
        else:
            ip21.run_cell_magic("nextcaller", line, cell)
    assert needle in str(caught.value) and "\n" not in str(caught.value)
    assert api_env_v21.httpd.request_count == 0


@pytest.mark.parametrize(
    "line,cell",
    [
        ("--email demo@nextcaller.com", None),
        ("--fraud 2125558383", None),
        ("--fraud", "2125558383\n"),
        ("--email", "a@b.co\n"),
    ],
)
def test_on_v2_each_says_v21_is_needed(ip, api_env, line, cell):
    with pytest.raises(UsageError) as caught:
        if cell is None:
            ip.run_line_magic("nextcaller", line)
        else:
            ip.run_cell_magic("nextcaller", line, cell)
    assert "needs API v2.1" in str(caught.value) and "NEXTCALLER_API_VERSION=v2.1" in str(caught.value)
    assert api_env.httpd.request_count == 0


def test_in_a_real_kernel(api_env_v21, tmp_path):
    """The same two magics in a fresh kernel that reads the API and credentials from its environment."""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext nextcaller_ops"),
            nbformat.v4.new_code_cell("%nextcaller --email demo@nextcaller.com"),
            nbformat.v4.new_code_cell(f"%%nextcaller --fraud -o calls\n2125558383\n{HOUSEHOLD_PHONE}"),
            nbformat.v4.new_code_cell("print(list(calls['fraud_risk']), list(calls['spoofed']))"),
        ]
    )
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    card = nb.cells[1].outputs[0]["data"]
    assert "Jerry Seinfeld" in card["text/html"] and "Line type" in card["text/html"]
    assert nb.cells[3].outputs[0]["text"] == "['low', 'high'] ['false', 'true']\n"
