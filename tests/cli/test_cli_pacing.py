"""The CLI's words for pacing: ``status`` names the limit learned, a batch's summary the rate it kept."""

from __future__ import annotations

from nextcaller_ops.cli._pacing import progress_words, status_line
from nextcaller_ops.cli.main import main
from nextcaller_ops.rate.pacer import PacingState
from nextcaller_ops.sandbox import synthetic_phone


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_the_limit_its_check_learned(api_env, capsys):
    api_env.httpd.rate_limit = 1000  # the sandbox now sends X-Rate-Limit-* (and refuses past 1000/s)
    code, out, _ = cli(capsys, "status")
    assert code == 0
    assert "pacing:    950 requests/s (the API's limit: 1000/s)" in out


def test_status_without_a_limit_says_so_and_how_to_set_one(api_env, capsys):
    code, out, _ = cli(capsys, "status")
    assert code == 0 and "pacing:    none: the API has named no rate limit (NEXTCALLER_OPS_MAX_RPS sets one)" in out


def test_status_offline_says_the_api_was_not_asked(api_env, capsys):
    code, out, _ = cli(capsys, "status", "--offline")
    assert code == 0 and "pacing:    none: no rate limit known (--offline: the API was not asked)" in out


def test_status_offline_shows_max_rps(api_env, capsys, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_OPS_MAX_RPS", "4")
    code, out, _ = cli(capsys, "status", "--offline")
    assert code == 0 and "pacing:    4 requests/s (NEXTCALLER_OPS_MAX_RPS=4)" in out


def test_a_bad_max_rps_is_one_line_naming_the_variable(api_env, capsys, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_OPS_MAX_RPS", "fast")
    code, out, err = cli(capsys, "lookup", "2125558383")
    assert code == 2 and out == ""
    assert "NEXTCALLER_OPS_MAX_RPS" in err and "a number above 0" in err and "Traceback" not in err


def test_a_paced_batch_says_at_what_rate(api_env, capsys, tmp_path):
    api_env.httpd.rate_limit = 1000
    src = tmp_path / "numbers.txt"
    src.write_text("\n".join(synthetic_phone(i) for i in range(12)) + "\n")
    code, _, err = cli(capsys, "lookup", "--file", str(src), "--concurrency", "4")
    assert code == 0
    assert "12 rows: 12 found — paced at 950 requests/s (the API's limit: 1000/s)" in err


def test_an_unpaced_batch_says_nothing_of_pacing(api_env, capsys, tmp_path):
    src = tmp_path / "numbers.txt"
    src.write_text("\n".join(synthetic_phone(i) for i in range(3)) + "\n")
    _, _, err = cli(capsys, "lookup", "--file", str(src))
    assert "3 rows: 3 found\n" in err and "paced" not in err


def test_the_words_for_a_backed_off_or_shared_rate():
    backed = PacingState(rate=33.25, limit=50, limit_source="api", max_rps=None, factor=0.7, shared=True)
    assert progress_words(backed) == "paced at 33.2/s (backed off)"
    assert status_line(backed) == (
        "33.2 requests/s (the API's limit: 50/s; backed off to 70% after a 429, recovering)"
        " — shared in Redis by every process using this key"
    )
    guessed = PacingState(rate=28, limit=40, limit_source="refusals", max_rps=None, factor=0.7, redis_down=True)
    assert status_line(guessed) == (
        "28 requests/s (the API named no limit; 40/s drew a 429; backed off to 70% after a 429, recovering)"
        " — in this process only: Redis is not answering"
    )
    assert progress_words(PacingState(rate=None, limit=None, limit_source=None, max_rps=None)) is None
