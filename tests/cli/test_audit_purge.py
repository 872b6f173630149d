"""Reading the audit log never deletes it; ``audit purge --older-than`` does, and only what it says; the
audit's output is inert in a terminal and in a spreadsheet.  Each on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.config import data_dir
from nextcaller_ops.stores import AuditStore, open_audit_store

DAY = 86400.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, monkeypatch) -> str | None:
    """The backend the CLI's audit log lives in (``NEXTCALLER_OPS_DATABASE_URL``, or the data dir's file)."""
    if request.param == "sqlite":
        return None
    url = request.getfixturevalue("pg_schema").url
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", url)
    assert main(["db", "migrate"]) == 0  # as an admin (or the bot) does: the CLI's other verbs run no DDL
    return url


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def audit_store(database_url: str | None, *, age_days: float = 0.0) -> AuditStore:
    """The CLI's audit log, writing entries stamped ``age_days`` ago."""
    return open_audit_store(data_dir(), database_url=database_url, clock=lambda: time.time() - age_days * DAY)


def seed(database_url: str | None, entries: list[tuple[float, str, str]]) -> None:
    """``(age in days, phone, outcome)`` rows by U0TEAM in C0TEAM, as the team's bot wrote them."""
    for age, phone, outcome in entries:
        store = audit_store(database_url, age_days=age)
        try:
            store.record(user_id="U0TEAM", channel_id="C0TEAM", action="lookup", phone=phone, outcome=outcome)
        finally:
            store.close()


def outcomes(database_url: str | None) -> list[str]:
    store = audit_store(database_url)
    try:
        return [e["outcome"] for e in store.entries()]
    finally:
        store.close()


TEAMS_ROWS = [(30, "3125550142", "a month ago"), (10, "3125550142", "ten days ago"), (0.01, "2025550999", "today")]


def test_reading_the_audit_log_and_looking_up_never_purge(api_env, database_url, capsys, monkeypatch):
    seed(database_url, TEAMS_ROWS)
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_RETENTION_DAYS", "7")  # an analyst's own, stricter setting
    code, out, _ = cli(capsys, "audit", "--format", "json")
    assert code == 0 and [r["outcome"] for r in json.loads(out)] == ["a month ago", "ten days ago", "today"]
    assert cli(capsys, "lookup", "2125558383")[0] == 0  # the lookup is audited: that opens the log too
    assert cli(capsys, "audit", "--user", "U0TEAM")[0] == 0
    assert outcomes(database_url) == ["a month ago", "ten days ago", "today", "found 1"]


def test_audit_purge_removes_what_is_older_than_asked_and_only_that(database_url, capsys):
    seed(database_url, TEAMS_ROWS)
    code, out, err = cli(capsys, "audit", "purge", "--older-than", "7d")
    assert code == 0 and err == ""
    assert out.startswith("Deleted 2 audit entries older than 7d (before ") and out.count("\n") == 1
    left = outcomes(database_url)
    assert left[0] == "today" and "a month ago" not in left and "ten days ago" not in left
    assert cli(capsys, "audit", "purge", "--older-than", "12h")[1].startswith("Deleted 0 audit entries")
    assert cli(capsys, "audit", "purge", "--older-than", "30m")[0] == 0
    assert outcomes(database_url)[0] == "today"  # a quarter of an hour old: younger than 30m


def test_audit_purge_says_who_purged_in_the_log(database_url, capsys):
    seed(database_url, TEAMS_ROWS)
    assert cli(capsys, "audit", "purge", "--older-than", "20d")[0] == 0
    purge = json.loads(cli(capsys, "audit", "--format", "json")[1])[-1]
    assert (purge["action"], purge["where"], purge["outcome"]) == ("purge", "cli", "deleted 1")
    assert purge["user"].startswith("os:") and purge["detail"] == "older than 20d"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["purge", "--older-than", "7"], "--older-than '7' is not a duration"),
        (["purge", "--older-than", "seven days"], "--older-than 'seven days' is not a duration"),
        (["purge", "--older-than=-7d"], "--older-than '-7d' is not a duration"),
        (["purge", "--older-than", "2026-01-01"], "--older-than '2026-01-01' is not a duration"),
        (["purge", "--older-than", "0d"], "--older-than must be longer than 0"),
        # `audit --user U purge` must not read as "purge U's entries": it would purge everyone's
        (["--user", "U0TEAM", "purge", "--older-than", "7d"], "audit purge takes no --user"),
        (["--since", "1h", "purge", "--older-than", "7d"], "audit purge takes no --since"),
    ],
)
def test_audit_purge_refuses_a_malformed_duration_in_one_sentence(database_url, capsys, args, words):
    seed(database_url, TEAMS_ROWS)
    code, out, err = cli(capsys, "audit", *args)
    assert code == 2 and out == "" and words in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert outcomes(database_url) == ["a month ago", "ten days ago", "today"]  # nothing went


def test_audit_purge_needs_older_than(capsys):
    with pytest.raises(SystemExit) as info:
        main(["audit", "purge"])
    assert info.value.code == 2 and "--older-than" in capsys.readouterr().err


# -- what `audit` writes -------------------------------------------------------------------------------

HOSTILE = [
    ('=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "-2+3"),
    ("\t=1+1", "\r=1+1"),
    ("\x1b]0;pwned\x07a@x.com", "ok\x1b[2J\x9bcleared"),
    ("line\u2028separated\u2029too", "\u202emoc.live"),
]


def seed_hostile(database_url: str | None) -> None:
    store = audit_store(database_url)
    try:
        for detail, outcome in HOSTILE:
            store.record(
                user_id="@U0TEAM",
                channel_id="C0TEAM",
                action="lookup",
                phone="2125558383",
                outcome=outcome,
                detail=detail,
            )
    finally:
        store.close()


def test_audit_csv_cells_are_formula_safe(database_url, capsys):
    seed_hostile(database_url)
    code, out, _ = cli(capsys, "audit", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == len(HOSTILE)
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
            assert cell.isprintable(), (column, cell)
    assert rows[0]["detail"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[0]["outcome"] == "'+1+cmd|' /C calc'!A0"
    assert rows[1]["detail"] == "'@SUM(1+1)" and rows[1]["outcome"] == "'-2+3"
    assert rows[0]["user"] == "'@U0TEAM" and rows[0]["phone"] == "2125558383"  # plain cells stay as they are


def test_audit_text_output_carries_no_control_character(database_url, capsys):
    seed_hostile(database_url)
    code, out, _ = cli(capsys, "audit")
    assert code == 0 and len(out.splitlines()) == 1 + len(HOSTILE)  # a tab or CR in a cell breaks no line
    assert all(line.isprintable() for line in out.splitlines())
    assert "a@x.com" in out and "\x1b" not in out and "\x07" not in out and "\x9b" not in out


def test_audit_json_keeps_the_text_and_escapes_controls(database_url, capsys):
    seed_hostile(database_url)
    code, out, _ = cli(capsys, "audit", "--format", "json")
    assert code == 0 and "\x1b" not in out  # JSON writes \u001b: a script gets the exact text back
    assert [r["detail"] for r in json.loads(out)] == [detail for detail, _ in HOSTILE]
