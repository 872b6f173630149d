"""Every surface's batch goes through the one engine (batch_run): the same summary, the same stop rule, the same Ctrl-C.

The CLI (``lookup --file`` and numbers on the line with ``--format csv``), ``%%nextcaller`` (numbers,
``--email``, ``--fraud``), ``%nextcaller_enrich`` and ``nextcaller_ops.enrich()`` run against the
sandbox; a spy on :class:`~nextcaller_ops.client.fanout.run.BatchRun` keeps the summary of every run made.
"""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

import nextcaller_ops
from nextcaller_ops.batch.run import BatchRun, BatchSummary
from nextcaller_ops.cli.commands.lookup import summary_line
from nextcaller_ops.cli.main import main
from nextcaller_ops.errors import AuthError
from nextcaller_ops.sandbox import synthetic_phone
from tests.notebook.conftest import magics_of

NUMBERS = [synthetic_phone(i) for i in range(6)]
EMAILS = [f"person{i}@example.com" for i in range(6)]


@pytest.fixture
def runs(monkeypatch):
    """The summary of every batch run that ends during the test, whichever surface started it."""
    seen: list[BatchSummary] = []
    real_exit = BatchRun.__exit__

    def spy(self, *exc):
        try:
            return real_exit(self, *exc)
        finally:
            seen.append(self.summary)

    monkeypatch.setattr(BatchRun, "__exit__", spy)
    return seen


@pytest.fixture
def ip21(api_env_v21):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


def _cli_file(shell, tmp_path, lines):
    src = tmp_path / "numbers.txt"
    src.write_text("\n".join(lines) + "\n")
    return main(["lookup", "--file", str(src), "--concurrency", "1"])


def _cli_line(shell, tmp_path, lines):
    return main(["lookup", *lines, "--format", "csv", "--concurrency", "1"])


def _cell(shell, tmp_path, lines):
    return shell.run_cell_magic("nextcaller", "--concurrency 1", "\n".join(lines))


def _enrich_magic(shell, tmp_path, lines):
    shell.user_ns["calls"] = pd.DataFrame({"phone": lines})
    shell.run_line_magic("nextcaller_enrich", "calls --concurrency 1")
    return shell.user_ns["calls"]


def _enrich_function(shell, tmp_path, lines):
    return nextcaller_ops.enrich(pd.DataFrame({"phone": lines}), concurrency=1)


SURFACES = {
    "cli --file": _cli_file,
    "cli numbers --format csv": _cli_line,
    "%%nextcaller": _cell,
    "%nextcaller_enrich": _enrich_magic,
    "enrich()": _enrich_function,
}


def _one_run(runs: list[BatchSummary]) -> BatchSummary:
    assert len(runs) == 1, "the surface did not run its batch through the engine (or ran it twice)"
    (summary,) = runs
    assert type(summary) is BatchSummary
    return summary


@pytest.mark.parametrize("surface", SURFACES)
def test_a_refused_key_stops_every_surface_at_its_first_line_after_one_request(
    ip, api_env, monkeypatch, tmp_path, capsys, runs, surface
):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NOSUCHKEY000000001")
    SURFACES[surface](ip, tmp_path, NUMBERS)
    summary = _one_run(runs)
    assert isinstance(summary.stopped_by, AuthError) and summary.stopped_at == 1 and summary.done == 1
    assert api_env.httpd.received.get("GET", 0) == 1  # not one per line


@pytest.mark.parametrize(
    ("options", "lines"), [("--email --concurrency 1", EMAILS), ("--fraud --concurrency 1", NUMBERS)]
)
def test_a_refused_key_stops_the_v21_cells_the_same_way(ip21, api_env_v21, monkeypatch, runs, options, lines):
    monkeypatch.setenv("NEXTCALLER_API_PASSWORD", "not-the-password-0001")
    table = ip21.run_cell_magic("nextcaller", options, "\n".join(lines))
    summary = _one_run(runs)
    assert isinstance(summary.stopped_by, AuthError) and summary.stopped_at == 1 and summary.done == 1
    assert list(table["status"]) == ["error"] and api_env_v21.httpd.received.get("GET", 0) == 1


@pytest.mark.parametrize("surface", SURFACES)
def test_ctrl_c_ends_every_surface_s_batch_keeping_the_rows_done(ip, api_env, monkeypatch, tmp_path, runs, surface):
    from nextcaller_ops.client.client import NextCallerClient

    real_lookup = NextCallerClient.lookup

    def lookup(self, phone, **kw):
        if str(phone) == NUMBERS[2]:
            raise KeyboardInterrupt  # Ctrl-C while the third line is being fetched
        return real_lookup(self, phone, **kw)

    monkeypatch.setattr(NextCallerClient, "lookup", lookup)
    got = SURFACES[surface](ip, tmp_path, NUMBERS)
    summary = _one_run(runs)
    assert summary.interrupted and summary.done == 2 and summary.found == 2 and summary.stopped_by is None
    if surface.startswith("cli"):
        assert got == 130  # the CLI's exit code for an interrupted run
    else:
        statuses = list(got["status"].fillna("-"))  # a cell keeps the rows done; enrich leaves the rest missing
        assert statuses[:2] == ["found", "found"] and set(statuses[2:]) <= {"-"}


@pytest.mark.parametrize("surface", ["cli --file", "%%nextcaller", "enrich()"])
def test_the_line_a_person_reads_is_worded_from_the_engine_s_summary(ip, api_env, tmp_path, capsys, runs, surface):
    if surface == "enrich()":
        magics_of(ip).progress = "none"
    SURFACES[surface](ip, tmp_path, [*NUMBERS, "bogus", NUMBERS[0]])
    summary = _one_run(runs)
    assert (summary.found, summary.invalid, summary.duplicates) == (7, 1, 1)
    out, err = capsys.readouterr()
    if surface.startswith("cli"):
        assert summary_line(summary) in err and summary_line(summary).startswith("8 rows: 7 found, 1 invalid")
    else:
        assert summary.text() in out and summary.text().startswith("8 lines: 7 found, 0 no record, 1 invalid")
