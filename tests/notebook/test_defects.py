"""Issue #12's defects, each as an analyst meets it, in a real in-process IPython shell against the sandbox.

The kernel-only ones (the progress bar in a saved notebook, errors as one line
in a cell's output) are checked in ``test_exported_notebook.py``.
"""

from __future__ import annotations

import logging
import re
import time

import pytest
from IPython.core.error import UsageError

from nextcaller_ops.api.render import THREAT_COLOURS, html_card
from nextcaller_ops.credentials import store_credentials
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, synthetic_phone
from tests.notebook.conftest import magics_of
from tests.support.common import SEINFELD_ID
from tests.support.secrets import NB_WRONG_SECRET


def _user_gets(sandbox) -> list[str]:
    return [r["path"] for r in sandbox.httpd.signed_requests if r["method"] == "GET" and "/users/" in r["path"]]


# 1. A correction works with the documented POST alone ------------------------------------------


def test_update_of_a_looked_up_record_shows_old_and_new_with_the_post_alone(ip, api_env):
    ip.run_line_magic("nextcaller", "2125558383")
    r = ip.run_line_magic("nextcaller_update", f"{SEINFELD_ID} email=jerry@example.com first_name=Jerry")
    assert r.sent == {"email": "jerry@example.com"}  # first_name is already Jerry: not sent
    assert "'demo@nextcaller.com' → 'jerry@example.com'" in repr(r)
    assert api_env.store.corrections(SEINFELD_ID)[-1]["body"] == {"email": "jerry@example.com"}
    assert _user_gets(api_env) == []  # v2 has no GET of a profile: none was tried


def test_update_of_a_record_not_looked_up_sends_the_fields_as_given_and_says_so(ip, api_env):
    other = api_env.store.find_by_phone(synthetic_phone(7))[0]["id"]
    r = ip.run_line_magic("nextcaller_update", f"{other} first_name=Pat shipping_address1.state=ny")
    assert r.sent == {"first_name": "Pat", "shipping_address1.state": "NY"}
    assert "sent as given" in repr(r) and "look its number up first" in repr(r)
    assert "sent as given" in r._repr_html_()
    assert api_env.store.corrections(other)[-1]["body"] == {"first_name": "Pat", "shipping_address1": {"state": "NY"}}
    assert _user_gets(api_env) == []


def test_an_unknown_id_is_worded_as_an_id_not_as_a_number(ip, api_env):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller_update", "f" * 30 + " email=a@b.co")
    text = str(info.value)
    assert text.startswith("[405]") and "id" in text and "no record for this number" not in text


# 2. New credentials take effect on the next magic ---------------------------------------------


def test_a_fixed_secret_works_on_the_next_magic_without_a_restart(ip, api_env, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", NB_WRONG_SECRET)
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "2125558383")
    assert "signature" in str(info.value) and "%nextcaller_login" in str(info.value)
    monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", api_env.consumer_secret)
    assert ip.run_line_magic("nextcaller", "2125558383").found
    assert len(magics_of(ip)._clients) == 1  # the client with the wrong secret was closed and dropped


def test_status_reports_where_the_key_comes_from_now(ip, api_env, monkeypatch, file_keyring, capsys):
    ip.run_line_magic("nextcaller_status", "")
    assert "(from env)" in capsys.readouterr().out
    store_credentials("default", api_env.consumer_key, api_env.consumer_secret)
    monkeypatch.delenv("NEXTCALLER_CONSUMER_KEY")
    monkeypatch.delenv("NEXTCALLER_CONSUMER_SECRET")
    ip.run_line_magic("nextcaller_status", "")
    out = capsys.readouterr().out
    assert "(from keyring)" in out and "API:      ok" in out


# 3. A batch with a refused key stops at the first error ----------------------------------------


def test_a_batch_with_a_refused_key_stops_at_once_and_says_so_in_one_line(ip, api_env, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NOSUCHKEY000000001")
    numbers = "\n".join(synthetic_phone(i) for i in range(40))
    ip.run_cell_magic("nextcaller", "-o calls --concurrency 1", numbers)
    calls = ip.user_ns["calls"]
    assert api_env.httpd.received.get("GET", 0) == 1  # not 40
    assert list(calls["status"]) == ["error"] and "[1046]" in calls.loc[0, "error"]
    out, err = capsys.readouterr()
    (line,) = err.strip().splitlines()
    assert line.startswith("Stopped at line 1: [1046]") and "%nextcaller_login" in line and "1 of 40 rows kept" in line
    assert "40 lines: 0 found" in out and "stopped at line 1, 39 lines not looked up" in out


def test_with_many_in_flight_a_refused_key_costs_at_most_one_request_per_worker(ip, api_env, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NOSUCHKEY000000001")
    ip.run_cell_magic("nextcaller", "-o calls --concurrency 4", "\n".join(synthetic_phone(i) for i in range(40)))
    assert 1 <= api_env.httpd.received.get("GET", 0) <= 4
    assert (ip.user_ns["calls"]["status"] == "error").all()  # only the rows before the stop, and the stop's own


# 5. A household shows everyone ----------------------------------------------------------------


def test_a_household_line_rates_its_highest_threat_and_rows_per_record_show_each_person(ip):
    lines = ip.run_cell_magic("nextcaller", "", f"{HOUSEHOLD_PHONE}\n2125558383\n")
    assert list(lines["records"]) == [2, 1]
    assert list(lines["fraud_threat"]) == ["medium", "low"]  # the first record's own rating
    assert list(lines["max_fraud_threat"]) == ["high", "low"]  # Sam Rivera, rated high, is not hidden
    people = ip.run_cell_magic("nextcaller", "--rows record", f"{HOUSEHOLD_PHONE}\n2025550999\n")
    assert list(people["name"].fillna("-")) == ["Alex Rivera", "Sam Rivera", "-"]
    assert list(people["record"].astype("object").fillna(0)) == [1, 2, 0]
    assert list(people["fraud_threat"].fillna("-")) == ["medium", "high", "-"]


# 6. A correction that changes nothing once normalised is not sent ------------------------------


def test_a_correction_equal_after_normalising_is_not_sent(ip, api_env):
    # the record holds values as people type them; the correction asks for the same, written otherwise
    api_env.store.update(SEINFELD_ID, {"shipping_address1": {"state": "ny", "zip_code": "10024 "}}, time.time())
    sent_before = len(api_env.store.corrections(SEINFELD_ID))
    ip.run_line_magic("nextcaller", "2125558383")
    r = ip.run_line_magic(
        "nextcaller_update",
        f"{SEINFELD_ID} phone1=(212)555-8383 shipping_address1.state=NY shipping_address1.zip_code=10024 "
        "email=Demo@NextCaller.com",
    )
    assert r.sent == {} and repr(r).startswith("Nothing to correct")
    assert len(api_env.store.corrections(SEINFELD_ID)) == sent_before


# 7. Settings and flags are checked; the rest of the small defects -----------------------------


def test_a_bad_flag_is_refused_naming_the_flag_and_the_value_before_any_request(ip, api_env):
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", "--concurrency 0", "2125558383\n")
    assert "--concurrency" in str(info.value) and "'0'" in str(info.value)
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("nextcaller", "--rows person", "2125558383\n")
    assert "--rows" in str(info.value) and "person" in str(info.value)
    assert api_env.httpd.request_count == 0


@pytest.mark.parametrize(
    "setting,value,words",
    [
        ("concurrency", "0", "NextCaller.concurrency = 0 refused"),
        ("concurrency", "1000", "NextCaller.concurrency = 1000 refused"),
        ("cache_ttl", "-5", "NextCaller.cache_ttl = -5.0 refused"),
        ("display_limit", "-1", "NextCaller.display_limit = -1 refused"),
        ("progress", "'fancy'", "NextCaller.progress = 'fancy' refused: use one of auto, widget, text, none"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_setting_and_kept_as_it_was(ip, caplog, capsys, setting, value, words):
    before = getattr(magics_of(ip), setting)
    with caplog.at_level(logging.ERROR):
        ip.run_line_magic("config", f"NextCaller.{setting} = {value}")
    err = capsys.readouterr().err
    assert words in err and "--" not in err  # names what was typed, not a flag
    # one line, not IPython's "ERROR:root:" log record (issue 24, defect 7)
    assert len(err.strip().splitlines()) == 1 and "ERROR" not in err and not caplog.records
    assert getattr(magics_of(ip), setting) == before


def test_a_refused_setting_leaves_batches_working(ip, caplog):
    ip.run_line_magic("config", "NextCaller.concurrency = 0")
    assert magics_of(ip).concurrency == 8
    assert list(ip.run_cell_magic("nextcaller", "", "2125558383\n")["status"]) == ["found"]


def test_progress_setting_takes_the_old_booleans(ip):
    ip.run_line_magic("config", "NextCaller.progress = False")
    assert magics_of(ip).progress == "none"
    ip.run_line_magic("config", "NextCaller.progress = 'TEXT'")
    assert magics_of(ip).progress == "text"


def test_ten_digits_that_are_no_us_number_are_not_called_too_short(ip, api_env):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller", "000-000-0000")
    assert "not a valid US number" in str(info.value) and "too short" not in str(info.value)
    assert api_env.httpd.request_count == 0


def _wcag_contrast(fg: str, bg: str) -> float:
    def luminance(colour: str) -> float:
        hex6 = "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour[1:]
        rgb = [int(hex6[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("level", [*THREAT_COLOURS, "unrated"])
def test_every_threat_badge_passes_wcag_aa_contrast(level):
    from nextcaller_ops.api.models import Profile

    card = html_card(Profile(name="Pat Doe", fraud_threat=level))
    bg, fg = re.search(r'class="nc-threat[^"]*" style="background:(#\w{3,6});color:(#\w{3,6})', card).groups()
    assert _wcag_contrast(fg, bg) >= 4.5, f"{level}: {fg} on {bg} is {_wcag_contrast(fg, bg):.2f}:1"


def test_json_format_displays_as_json_not_html(ip):
    r = ip.run_line_magic("nextcaller", "2125558383 --format json")
    shown, _ = ip.display_formatter.format(r)
    assert shown["application/json"]["records"][0]["id"] == SEINFELD_ID
    assert "text/html" not in shown and shown["text/plain"].startswith("{")


def test_blank_fields_are_missing_values_and_each_column_has_one_type(ip):
    df = ip.run_cell_magic("nextcaller", "", f"2125558383\n2025550999\nbogus\n{synthetic_phone(3)}\n")
    assert str(df["member"].dtype) == "boolean" and str(df["records"].dtype) == "Int64"
    assert df.loc[0, "member"] == True  # noqa: E712 (a pandas boolean)
    assert df.loc[[1, 2], ["name", "email", "member", "max_fraud_threat"]].isna().all().all()
    assert df.loc[3, ["line2", "error"]].isna().all()  # blank in the record; no error
    strings = df.select_dtypes("string")
    assert not (strings == "").any().any()
