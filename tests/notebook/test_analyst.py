"""What analysts expect from a data magic: help, enrich a DataFrame, a summary line, quiet -o, export, dry runs."""

from __future__ import annotations

import os
import re
import stat
import sys

import pandas as pd
import pytest
from IPython.core.error import UsageError

import nextcaller_ops
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, synthetic_phone
from tests.notebook.conftest import magics_of
from tests.support.common import SEINFELD_ID

SUMMARY = re.compile(
    r"^(\d+) lines?: (\d+) found, (\d+) no record, (\d+) invalid, (\d+) duplicates? — "
    r"(\d+) requests?, \d+\.\d s, (\d+) from cache$",
    re.M,
)

# -- help ------------------------------------------------------------------------------------------


def test_question_mark_shows_the_full_usage_of_every_magic(ip):
    text = ip.object_inspect_text("%nextcaller")
    for option in ("--format", "--rows", "--to", "--display", "--concurrency", "--refresh", "--profile"):
        assert option in text
    for usage in (
        "%nextcaller_enrich [--column COL] [--fields A,B]",
        "%nextcaller_update [--dry-run]",
        "%nextcaller_login [--profile P]",
        "%nextcaller_status",
    ):
        assert usage in text
    assert "FIELD=VALUE" in ip.object_inspect_text("%nextcaller_update")


@pytest.mark.parametrize(
    "magic,line,needle",
    [
        ("nextcaller", "--help", "usage: %nextcaller"),
        ("nextcaller_enrich", "-h", "usage: %nextcaller_enrich"),
        ("nextcaller_update", "--help", "--dry-run"),  # its ID and FIELD=VALUE are not needed for help
        ("nextcaller_status", "--help", "usage: %nextcaller_status"),
    ],
)
def test_help_flag_prints_the_usage_and_does_nothing_else(ip, api_env, capsys, magic, line, needle):
    assert ip.run_line_magic(magic, line) is None
    assert needle in capsys.readouterr().out
    assert api_env.httpd.request_count == 0


def test_cell_help_does_not_look_anything_up(ip, api_env, capsys):
    assert ip.run_cell_magic("nextcaller", "--help", "2125558383\n") is None
    assert "--rows" in capsys.readouterr().out and api_env.httpd.request_count == 0


# -- summary, -o, --display, display_limit ------------------------------------------------------


def test_every_batch_ends_with_the_summary_line(ip, api_env, capsys):
    ip.run_line_magic("nextcaller", "2125558383")  # now cached
    ip.run_cell_magic("nextcaller", "", f"2125558383\n{HOUSEHOLD_PHONE}\nbogus\n{HOUSEHOLD_PHONE}\n2025550999\n")
    (summary,) = SUMMARY.findall(capsys.readouterr().out)
    lines, found, none, invalid, dupes, requests, cached = map(int, summary)
    assert (lines, found, none, invalid, dupes, cached) == (5, 3, 1, 1, 1, 1)
    assert requests == 2 == api_env.httpd.request_count - 1  # the household and the missing number


def test_o_is_quiet_and_display_shows_the_first_rows(ip, capsys):
    from IPython.core.formatters import DisplayFormatter  # noqa: F401  (the shell's own display path)

    shown: list = []
    ip.display_pub.publish = lambda data, **kw: shown.append(data)
    numbers = "\n".join(synthetic_phone(i) for i in range(5))
    assert ip.run_cell_magic("nextcaller", "-o calls", numbers) is None
    assert shown == [] and len(ip.user_ns["calls"]) == 5  # stored, not shown
    ip.run_line_magic("config", "NextCaller.display_limit = 2")
    assert ip.run_cell_magic("nextcaller", "-o calls --display", numbers) is None
    (table,) = shown
    assert table["text/html"].count("<tr") == 3  # the header and 2 rows
    assert "Showing 2 of 5 rows; the whole table is in `calls`" in capsys.readouterr().out


# -- export --------------------------------------------------------------------------------------


def test_to_csv_writes_the_table_privately(ip, tmp_path, capsys):
    target = tmp_path / "calls.csv"
    ip.run_cell_magic("nextcaller", f"-o calls --to {target}", f"2125558383\n{HOUSEHOLD_PHONE}\nbogus\n")
    assert f"Wrote 3 rows to {target}." in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # it holds PII
    back = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(back["input"]) == ["2125558383", HOUSEHOLD_PHONE, "bogus"]
    assert list(back["max_fraud_threat"]) == ["low", "high", ""]  # a missing value is an empty cell


@pytest.mark.parametrize(
    "path,needle", [("calls.xlsx", "unknown file type '.xlsx'"), ("no/such/dir/x.csv", "does not exist")]
)
def test_a_file_that_cannot_be_written_is_refused_before_any_lookup(ip, api_env, path, needle):
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", f"--to {path}", "2125558383\n")
    assert needle in str(info.value) and api_env.httpd.request_count == 0


def test_to_parquet_round_trips(ip, tmp_path):
    target = tmp_path / "calls.parquet"
    ip.run_cell_magic("nextcaller", f"-o calls --to {target}", f"2125558383\n{HOUSEHOLD_PHONE}\n")
    back = pd.read_parquet(target)
    assert list(back["name"]) == ["Jerry Seinfeld", "Alex Rivera"] and str(back["member"].dtype) == "boolean"


def test_to_parquet_without_pyarrow_says_what_to_install(ip, api_env, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` fails as it does where it isn't installed
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", "--to calls.parquet", "2125558383\n")
    assert "pyarrow" in str(info.value) and api_env.httpd.request_count == 0


# -- corrections with a preview --------------------------------------------------------------------


def test_dry_run_shows_old_and_new_and_sends_nothing(ip, api_env):
    ip.run_line_magic("nextcaller", "2125558383")
    r = ip.run_line_magic("nextcaller_update", f"{SEINFELD_ID} email=jerry@example.com first_name=Jerry --dry-run")
    assert repr(r).startswith("Dry run — nothing sent.")
    assert "'demo@nextcaller.com' → 'jerry@example.com'" in repr(r) and "Unchanged" in repr(r)
    assert "<s>demo@nextcaller.com</s>" in r._repr_html_()
    assert api_env.store.corrections(SEINFELD_ID) == [] and r.sent == {}


def test_dry_run_of_an_unknown_record_says_the_fields_would_be_sent_as_given(ip, api_env):
    r = ip.run_line_magic("nextcaller_update", f"{SEINFELD_ID} email=jerry@example.com --dry-run")
    assert "would be sent as given" in repr(r) and api_env.store.corrections(SEINFELD_ID) == []


# -- enrich a DataFrame -------------------------------------------------------------------------


@pytest.fixture
def calls():
    return pd.DataFrame(
        {
            "agent": ["ana", "bo", "cy", "di", "ed"],
            "phone": ["(212) 555-8383", HOUSEHOLD_PHONE, "not a number", "2125558383", None],
        },
        index=pd.Index([31, 7, 12, 99, 3], name="ticket"),
    )


def test_enrich_magic_adds_the_columns_in_place_keeping_index_order_and_fetching_duplicates_once(
    ip, api_env, calls, capsys
):
    ip.user_ns["calls"] = calls
    assert ip.run_line_magic("nextcaller_enrich", "calls --column phone --fields name,carrier,fraud_threat") is None
    assert list(calls.columns) == ["agent", "phone", "name", "carrier", "fraud_threat", "status", "error"]
    assert list(calls.index) == [31, 7, 12, 99, 3] and list(calls["agent"]) == ["ana", "bo", "cy", "di", "ed"]
    assert list(calls["name"].fillna("-")) == ["Jerry Seinfeld", "Alex Rivera", "-", "Jerry Seinfeld", "-"]
    assert list(calls["status"]) == ["found", "found", "invalid", "found", "invalid"]
    assert api_env.httpd.request_count == 2  # 2125558383 twice, fetched once
    assert SUMMARY.search(capsys.readouterr().out)


def test_enrich_magic_o_leaves_the_frame_alone(ip, calls):
    ip.user_ns["calls"] = calls
    ip.run_line_magic("nextcaller_enrich", "calls -o enriched --fields max_fraud_threat,records")
    assert list(calls.columns) == ["agent", "phone"]
    enriched = ip.user_ns["enriched"]
    assert list(enriched.loc[7, ["max_fraud_threat", "records"]]) == ["high", 2]


def test_enrich_again_replaces_its_own_columns_but_never_the_users(ip, api_env, calls):
    ip.user_ns["calls"] = calls
    ip.run_line_magic("nextcaller_enrich", "calls --fields name")
    ip.run_line_magic("nextcaller_enrich", "calls --fields name")  # re-running the cell
    assert list(calls.columns) == ["agent", "phone", "name", "status", "error"]
    ip.user_ns["mine"] = calls[["agent", "phone"]].rename(columns={"agent": "name"})
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller_enrich", "mine --fields name")
    assert "'name'" in str(info.value) and "--prefix" in str(info.value)
    ip.run_line_magic("nextcaller_enrich", "mine --fields name --prefix nc_")
    assert list(ip.user_ns["mine"].columns) == ["name", "phone", "nc_name", "nc_status", "nc_error"]


@pytest.mark.parametrize(
    "line,needle",
    [
        ("nosuch", "no variable named 'nosuch'"),
        ("calls --column tel", "no column 'tel'"),
        ("calls --fields name,shoe_size", "unknown field 'shoe_size'"),
        ("calls --concurrency 999", "--concurrency"),
        ("text", "not str"),
    ],
)
def test_enrich_refuses_bad_input_in_one_line_before_any_request(ip, api_env, calls, line, needle):
    ip.user_ns.update(calls=calls, text="2125558383")
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller_enrich", line)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert api_env.httpd.request_count == 0


def test_enrich_function_returns_a_new_frame(api_env, calls, capsys):
    calls["phone"] = [2125558383.0, float(HOUSEHOLD_PHONE), None, 2125558383.0, float("nan")]  # a float column
    out = nextcaller_ops.enrich(calls, "phone", fields="name,max_fraud_threat")
    assert list(calls.columns) == ["agent", "phone"]  # the caller's frame is left alone
    assert list(out.index) == [31, 7, 12, 99, 3]
    assert list(out["max_fraud_threat"].fillna("-")) == ["low", "high", "-", "low", "-"]
    assert "5 lines: 3 found, 0 no record, 2 invalid, 1 duplicate" in capsys.readouterr().err


def test_enrich_function_stops_at_a_refused_key_keeping_the_rows_done(api_env, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NOSUCHKEY000000001")
    frame = pd.DataFrame({"phone": [synthetic_phone(i) for i in range(30)]})
    out = nextcaller_ops.enrich(frame, concurrency=1, progress=False)
    assert api_env.httpd.received.get("GET", 0) == 1
    assert out.loc[0, "status"] == "error" and out["status"].iloc[1:].isna().all()
    assert capsys.readouterr() == ("", "")  # progress=False: nothing printed


def test_enrich_function_in_a_shell_with_the_extension_uses_the_notebooks_progress(ip, calls, capsys):
    magics_of(ip).progress = "none"
    nextcaller_ops.enrich(calls, "phone", fields="name")
    out = capsys.readouterr().out  # the notebook's summary goes to stdout, the terminal one to stderr
    assert SUMMARY.search(out)
