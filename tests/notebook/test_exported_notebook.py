"""Checked as a person would: a notebook using every magic, run in one real kernel, saved, exported to HTML.

The assertions are on what a reader of the saved notebook and of its HTML
export sees: cards, the summary line after every batch, one-line errors, the
enriched columns — and no progress bar frozen half-way, no traceback, no secret.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from nextcaller_ops.sandbox import synthetic_phone
from tests.notebook import analyst_notebook as analyst
from tests.support.common import SEINFELD_ID
from tests.support.secrets import NB_SECRET, NB_WRONG_SECRET

KEY = "NBKEY0000000000001"
SUMMARY = re.compile(
    r"\d+ lines?: \d+ found, \d+ no record, \d+ invalid, \d+ duplicates?(, \d+ errors?)? — \d+ requests?, [\d.]+ s"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One sandbox, one kernel, the whole notebook: (executed notebook, its HTML, the sandbox, the folder)."""
    from nextcaller_ops.sandbox import Sandbox

    folder = tmp_path_factory.mktemp("analyst")
    with pytest.MonkeyPatch.context() as env, Sandbox(records=300) as sandbox:
        sandbox.store.add_consumer(KEY, NB_SECRET)
        for name, value in {
            "NEXTCALLER_BASE_URL": sandbox.url,
            "NEXTCALLER_CONSUMER_KEY": KEY,
            "NEXTCALLER_CONSUMER_SECRET": NB_SECRET,
            "NB_GOOD_SECRET": NB_SECRET,
            "NB_WRONG_SECRET": NB_WRONG_SECRET,
            "NEXTCALLER_OPS_CONFIG_DIR": str(folder / "config"),
            "NEXTCALLER_OPS_DATA_DIR": str(folder / "data"),
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        }.items():
            env.setenv(name, value)
        other_id = sandbox.store.find_by_phone(synthetic_phone(250))[0]["id"]
        nb = analyst.execute(analyst.build(SEINFELD_ID, other_id), folder)
        saved = folder / "analyst.ipynb"
        nbformat.write(nb, saved)
        html = analyst.to_html(nbformat.read(saved, as_version=4))  # what was saved, as a reader opens it
        yield nb, html, sandbox, folder


def _outputs(nb, name):
    return analyst.cell(nb, name).outputs


def _texts(nb, name) -> list[str]:
    """Every text a cell shows: stream text, and each display's plain text."""
    out = []
    for o in _outputs(nb, name):
        out.append(o["text"] if o["output_type"] == "stream" else o.get("data", {}).get("text/plain", ""))
    return out


def _stderr(nb, name) -> list[str]:
    return [o["text"] for o in _outputs(nb, name) if o["output_type"] == "stream" and o["name"] == "stderr"]


def _visible_text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    return re.sub(r"\s+", " ", soup.get_text(" "))


def test_no_cell_ends_in_a_traceback_and_every_error_is_one_line(run):
    nb, html, _, _ = run
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o["output_type"] == "error"]
    errors = [text for c in nb.cells if c.cell_type == "code" for text in _stderr(nb, c.metadata["nc"])]
    assert len(errors) == 3  # the bad number, the refused setting, the stopped batch
    assert all(text.count("\n") == 1 for text in errors), errors
    assert "Traceback" not in _visible_text(html)


def test_the_cards_and_the_one_line_refusals(run):
    nb, _, _, _ = run
    card = _outputs(nb, "card")[0]["data"]
    assert "Jerry Seinfeld" in card["text/html"] and "Jerry Seinfeld" in card["text/plain"]
    household = _outputs(nb, "household")[0]["data"]["text/html"]
    assert household.count('class="nextcaller-card"') == 2 and "nc-threat-high" in household
    (bad,) = _stderr(nb, "bad_number")
    assert bad.startswith("UsageError: not a phone number") and "not a valid US number" in bad
    (refused,) = _stderr(nb, "bad_setting")
    assert "NextCaller.concurrency = 0 refused" in refused and "--concurrency" not in refused


def test_json_is_shown_as_json(run):
    nb, _, _, _ = run
    data = _outputs(nb, "json")[0]["data"]
    assert data["application/json"]["records"][0]["id"] == SEINFELD_ID and "text/html" not in data


def test_no_progress_bar_is_left_behind_only_the_summary_line(run):
    nb, html, _, _ = run
    for name in ("batch", "per_record", "enrich", "enrich_fn", "many", "stopped"):  # widget bars, then the text bar
        shown = _texts(nb, name)
        assert SUMMARY.search(shown[0]), (name, shown)
        for o in _outputs(nb, name):
            assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {}), name
    page = _visible_text(html)
    for frozen in ("%|", "IntProgress", "HBox(", "nextcaller 0/", "/60 [", "it/s"):
        assert frozen not in page
    assert "<progress" not in html


def test_the_batch_is_quiet_with_o_written_to_csv_and_shows_every_household_member(run):
    nb, _, _, folder = run
    shown = _texts(nb, "batch")
    assert shown[0].startswith("14 lines: 11 found, 1 no record, 2 invalid, 1 duplicate — ")
    assert shown[1] == "Wrote 14 rows to calls.csv.\n" and len(shown) == 2  # no 14-row table printed
    assert (folder / "calls.csv").read_text().count("\n") == 15
    peek = _outputs(nb, "batch_peek")[0]["data"]["text/html"]
    assert "max_fraud_threat" in peek and "&lt;NA&gt;" in peek  # blanks are missing values
    assert "Sam Rivera" in _outputs(nb, "per_record")[-1]["data"]["text/html"]


def test_the_enriched_tickets_keep_their_columns_and_index(run):
    nb, html, _, _ = run
    table = _outputs(nb, "enrich")[-1]["data"]["text/html"]
    headers = [th.get_text() for th in BeautifulSoup(table, "html.parser").select("thead th")]
    for column in ("agent", "phone", "name", "carrier", "fraud_threat", "max_fraud_threat", "status", "error"):
        assert column in headers
    assert "ticket" in headers and "4421" in table and "Ashley Perez" in table
    assert "ahmed.rodriguez21@example.com" in _outputs(nb, "enrich_fn")[-1]["data"]["text/html"]
    assert "Ashley Perez" in _visible_text(html)


def test_corrections_preview_skip_and_send_only_what_they_say(run):
    nb, _, sandbox, _ = run
    assert _texts(nb, "dry_run")[0].startswith("Dry run — nothing sent.")
    assert _texts(nb, "same")[0].startswith("Nothing to correct")
    assert "'demo@nextcaller.com' → 'jerry@example.com'" in _texts(nb, "update")[0]
    assert "sent as given" in _texts(nb, "update_unknown")[0]
    assert [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)] == [{"email": "jerry@example.com"}]
    reads = [r["path"] for r in sandbox.httpd.signed_requests if r["method"] == "GET" and "/users/" in r["path"]]
    assert set(reads) <= {"/v2/users/" + "0" * 30 + "/"}  # only %nextcaller_status's live check, never a record


def test_a_wrong_secret_stops_the_batch_and_the_right_one_works_in_the_same_kernel(run):
    nb, _, _, _ = run
    shown = _texts(nb, "stopped")
    assert "stopped at line 1, 39 lines not looked up" in shown[0]
    (line,) = _stderr(nb, "stopped")
    assert line.startswith("Stopped at line 1: [401]") and "%nextcaller_login" in line
    requests = int(re.search(r"— (\d+) requests?", shown[0]).group(1))
    assert 1 <= requests <= 8  # at most one per worker, not 40
    assert "Sam Rivera" in _outputs(nb, "fixed")[0]["data"]["text/html"]
    status = _texts(nb, "status")[0]
    assert "NBKE…0001 (from env)" in status and "API:      ok" in status


def test_no_secret_in_the_saved_notebook_or_its_html(run):
    _, html, _, folder = run
    saved = (folder / "analyst.ipynb").read_text()
    for secret in (NB_SECRET, NB_WRONG_SECRET):
        assert secret not in saved and secret not in html


def test_a_dry_run_then_a_budgeted_paced_batch_from_a_python_list(run):
    """Issue 24: {week} from the namespace, a dry run that sends nothing, the pace and the budget in the summary."""
    nb, _, _, _ = run
    (dry,) = [t for t in _texts(nb, "dry_batch") if "Dry run" in t]
    assert "21 rows, 21 distinct, 1 of them in the cache — a real run would make 20 requests" in dry
    summary = "".join(_texts(nb, "paced_batch"))
    assert summary.startswith("21 lines: 15 found") and "6 skipped (over the budget of 15 requests)" in summary
    assert "paced at 20 requests/s (NEXTCALLER_OPS_MAX_RPS=20)" in summary


def test_the_dark_export_keeps_cards_and_summaries_readable(run):
    """Issue 24, defect 3: the exported notebook in JupyterLab's dark theme: text takes the theme's colours."""
    nb, _, _, _ = run
    dark = analyst.to_html(analyst.only(nb, "household", "paced_batch"), "dark")
    assert "--jp-content-font-color1" in dark and "var(--jp-content-font-color2,inherit)" in dark
    assert not re.search(r'style="[^"]*color:#(333|555|888)\b', dark)
