"""``audit`` on both backends, and ``status`` naming and checking the stores and the cache."""

from __future__ import annotations

import csv
import io
import json
import socket

import pytest

from nextcaller_ops.cli.main import main
from tests.support.secrets import DB_PASSWORD


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_answers_who_looked_a_number_up_on_sqlite(api_env, capsys, tmp_path):
    for number in ("212-555-8383", "312-555-0142", "(212) 555 8383"):
        assert main(["lookup", number]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, "audit", "--phone", "+1 212.555.8383", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["phone"] for r in rows] == ["2125558383", "2125558383"]
    assert {r["where"] for r in rows} == {"cli"} and rows[0]["user"].startswith("os:")
    assert rows[0]["action"] == "lookup" and rows[0]["outcome"] == "found 1" and rows[0]["time"].endswith("Z")
    code, out, _ = cli(capsys, "audit", "--since", "1h", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["phone"] for r in table] == ["2125558383", "3125550142", "2125558383"]
    code, out, _ = cli(capsys, "audit", "--user", rows[0]["user"])
    assert out.splitlines()[0].split()[:3] == ["TIME", "USER", "WHERE"] and len(out.splitlines()) == 4
    assert cli(capsys, "audit", "--user", "U0NOBODY")[1] == "No audit entries match.\n"
    assert cli(capsys, "audit", "--since", "2999-01-01", "--format", "json")[1].strip() == "[]"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is neither a duration nor a date"),
        (["--phone", "12"], "not a phone number"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_audit_refuses_bad_input_in_one_line(args, words, capsys):
    try:
        code = main(["audit", *args])
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err


def test_audit_and_cli_lookups_use_postgresql_when_configured(api_env, pg_schema, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    assert main(["db", "migrate"]) == 0  # the CLI's lookups run no DDL (tests/cli/test_db.py)
    assert main(["lookup", "212-555-8383"]) == 0
    assert pg_schema.query("SELECT action, phone, channel_id FROM nextcaller_audit") == [
        ("lookup", "2125558383", "cli")
    ]
    assert not (tmp_path / "data" / "audit.sqlite3").exists()
    capsys.readouterr()
    code, out, _ = cli(capsys, "audit", "--phone", "2125558383", "--format", "csv")
    assert code == 0 and next(iter(csv.DictReader(io.StringIO(out))))["outcome"] == "found 1"


def test_status_names_and_checks_both_shared_backends(api_env, pg_schema, redis_space, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", redis_space.url)
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_PREFIX", redis_space.prefix)
    code, out, _ = cli(capsys, "status", "--offline")
    assert code == 0, out
    stores = next(line for line in out.splitlines() if line.startswith("stores:"))
    assert "PostgreSQL" in stores and "ok" in stores and "schema 0 (the bot creates it on start)" in stores
    assert main(["db", "migrate"]) == 0  # creates the schema: the CLI's lookups run no DDL
    assert main(["lookup", "212-555-8383"]) == 0  # the audit log's first row and one cache entry
    code, out, _ = cli(capsys, "status")
    lines = {line.split(":", 1)[0]: line for line in out.splitlines()}
    assert code == 0 and "outbox: 0 pending, 0 delivered, 0 rejected" in lines["stores"]
    assert "(up to date)" in lines["stores"]
    assert "Redis" in lines["cache"] and "ok, version" in lines["cache"] and lines["API"].startswith("API:       ok")


def test_status_fails_for_a_backend_that_does_not_answer_without_showing_its_url(api_env, monkeypatch, capsys):
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", f"postgresql://ops:{DB_PASSWORD}@127.0.0.1:{port}/ops")
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", f"redis://:{DB_PASSWORD}@127.0.0.1:{port}/0")
    code, out, err = cli(capsys, "status")
    assert code == 1
    assert "stores:    PostgreSQL (NEXTCALLER_OPS_DATABASE_URL) — FAILED: not reachable" in out
    assert "cache:     Redis (NEXTCALLER_OPS_REDIS_URL) — FAILED: not reachable" in out
    assert "lookups go to the API directly" in out and "API:       ok" in out
    assert DB_PASSWORD not in out + err and str(port) not in out + err


def test_status_on_the_embedded_default(api_env, capsys):
    code, out, _ = cli(capsys, "status", "--offline")
    assert code == 0
    assert "stores:    SQLite in " in out and "cache:     in each process's memory — ok" in out
