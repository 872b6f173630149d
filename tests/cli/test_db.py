"""``nextcaller-ops db status|migrate``; the CLI runs no DDL; a schema newer than the code is refused everywhere."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.stores import open_stores
from nextcaller_ops.stores.schema import SQLITE_FILES, SQLITE_TABLE, SchemaNewerError, code_version, migrations
from tests.support.common import ROOT
from tests.support.procs import free_port
from tests.support.secrets import RELIABILITY_BOT_TOKEN, RELIABILITY_SIGNING

VERSION_TABLE = "nextcaller_schema_version"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def apply_first(pg_schema, count: int) -> None:
    """The first ``count`` migrations, as an older release would have left the database."""
    import psycopg

    with psycopg.connect(pg_schema.url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {VERSION_TABLE} (version integer PRIMARY KEY, name text NOT NULL,"
            " applied timestamptz NOT NULL DEFAULT now())"
        )
        for number, name, sql in migrations()[:count]:
            conn.execute(sql)
            conn.execute(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, %s)", (number, name))


def schema_shape(pg_schema) -> list[tuple]:
    """Every table, column and index in the test's schema, and the versions recorded: what DDL would change."""
    columns = pg_schema.query(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY 1, 2"
    )
    indexes = pg_schema.query("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1")
    versions = pg_schema.query(f"SELECT version FROM {VERSION_TABLE} ORDER BY 1")
    return [*columns, *indexes, *versions]


def test_db_status_and_migrate_on_a_fresh_behind_current_and_newer_postgresql(pg_schema, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    known = code_version()
    names = [f"{n:04d}_{name}" for n, name, _ in migrations()]

    code, out, _ = cli(capsys, "db", "status")  # fresh: nothing there yet, nothing created by looking
    assert code == 1 and "schema version 0" in out and "no schema yet" in out and ", ".join(names) in out
    assert pg_schema.query("SELECT to_regclass(%s) IS NULL", VERSION_TABLE) == [(True,)]

    apply_first(pg_schema, 1)  # behind: the first release's schema
    code, out, _ = cli(capsys, "db", "status")
    assert code == 1 and "schema version 1;" in out and "behind" in out
    assert ", ".join(names[1:]) in out and names[0] not in out

    code, out, _ = cli(capsys, "db", "migrate")
    assert code == 0 and f"schema version 1 -> {known}: migrated" in out
    assert [v for (v,) in pg_schema.query(f"SELECT version FROM {VERSION_TABLE} ORDER BY 1")] == [
        n for n, _, _ in migrations()
    ]
    code, out, _ = cli(capsys, "db", "status")  # current
    assert code == 0 and f"schema version {known};" in out and "up to date" in out
    assert cli(capsys, "db", "migrate")[:2] == (
        0,
        f"database: PostgreSQL, schema version {known}: already up to date\n",
    )

    pg_schema.query(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, 'from_the_future') RETURNING 1", 9999)
    before = schema_shape(pg_schema)
    code, out, _ = cli(capsys, "status", "--offline")  # `status` says so too (it said "up to date")
    assert "schema 9999, newer than this code knows" in out and "up to date" not in out
    code, out, _ = cli(capsys, "db", "status")  # newer
    assert code == 2 and "schema version 9999" in out and "upgrade nextcaller-ops" in out
    code, out, err = cli(capsys, "db", "migrate")
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert f"schema version 9999, newer than this nextcaller-ops knows ({known})" in line and "upgrade" in line
    assert schema_shape(pg_schema) == before


def test_db_status_and_migrate_on_the_sqlite_stores(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NEXTCALLER_OPS_DATABASE_URL", raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("NEXTCALLER_OPS_DATA_DIR", str(data))
    code, out, _ = cli(capsys, "db", "status")
    assert code == 0 and out.count("not created yet") == len(SQLITE_FILES)
    assert not data.exists() or not list(data.iterdir())  # looking creates nothing

    code, out, _ = cli(capsys, "db", "migrate")
    assert code == 0 and f"schema version {code_version()}, up to date" in out
    for name in SQLITE_FILES:
        db = sqlite3.connect(data / name)
        assert db.execute(f"SELECT MAX(version) FROM {SQLITE_TABLE}").fetchone() == (code_version(),)
        db.close()
    code, out, _ = cli(capsys, "db", "status")
    assert code == 0 and out.count("up to date") == len(SQLITE_FILES)

    db = sqlite3.connect(data / "outbox.sqlite3")  # a newer release wrote the outbox
    db.execute(f"INSERT INTO {SQLITE_TABLE} VALUES (9999, 0)")
    db.commit()
    db.close()
    code, out, _ = cli(capsys, "db", "status")
    assert code == 2 and "outbox.sqlite3: version 9999: newer than this code" in out
    with pytest.raises(SchemaNewerError, match="schema version 9999, newer than this nextcaller-ops knows"):
        open_stores(data)


def test_a_cli_lookup_against_a_schema_behind_runs_no_ddl_and_says_to_migrate(api_env, pg_schema, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    apply_first(pg_schema, len(migrations()) - 1)
    before = schema_shape(pg_schema)
    code, out, err = cli(capsys, "lookup", "212-555-8383")
    assert code == 0 and "Seinfeld" in out  # the lookup itself goes on
    lines = [ln for ln in err.splitlines() if "db migrate" in ln]
    assert len(lines) == 1 and "audit log unavailable" in lines[0] and f"needs {code_version()}" in lines[0]
    assert schema_shape(pg_schema) == before  # no table, column, index or version was added
    assert pg_schema.query("SELECT COUNT(*) FROM nextcaller_audit") == [(0,)]


def test_a_schema_newer_than_the_code_is_refused_by_the_cli_and_the_bot(
    api_env, pg_schema, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    assert main(["db", "migrate"]) == 0
    pg_schema.query(f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, 'from_the_future') RETURNING 1", 9999)
    capsys.readouterr()
    before = schema_shape(pg_schema)

    code, _, err = cli(capsys, "lookup", "212-555-8383")
    assert code == 2
    (line,) = [ln for ln in err.splitlines() if ln.strip()]
    assert line.startswith("error:") and "newer than this nextcaller-ops knows" in line and "upgrade" in line

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
    env.update(
        NEXTCALLER_OPS_DATABASE_URL=pg_schema.url,
        NEXTCALLER_BASE_URL=api_env.url,
        NEXTCALLER_CONSUMER_KEY=api_env.consumer_key,
        NEXTCALLER_CONSUMER_SECRET=api_env.consumer_secret,
        SLACK_BOT_TOKEN=RELIABILITY_BOT_TOKEN,
        SLACK_SIGNING_SECRET=RELIABILITY_SIGNING,
        SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/",  # never reached: the schema stops it first
        NEXTCALLER_OPS_DATA_DIR=str(tmp_path / "bot"),
        NEXTCALLER_OPS_CONFIG_DIR=str(tmp_path / "cfg"),
    )
    bot = subprocess.run(
        [sys.executable, "-m", "nextcaller_ops", "bot", "--http", "--port", str(free_port())],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bot.returncode == 2, bot.stderr
    (line,) = bot.stderr.strip().splitlines()
    assert "schema version 9999, newer than this nextcaller-ops knows" in line and "upgrade" in line
    assert schema_shape(pg_schema) == before


def test_the_bot_migrates_at_start_unless_told_not_to(pg_schema, tmp_path):
    from nextcaller_ops.stores import open_stores as open_

    with pytest.raises(Exception, match=r"needs \d+.*db migrate"):
        open_(tmp_path, database_url=pg_schema.url, migrate=False)  # NEXTCALLER_OPS_AUTO_MIGRATE=0: refused
    assert pg_schema.query("SELECT to_regclass(%s) IS NULL", VERSION_TABLE) == [(True,)]
    open_(tmp_path, database_url=pg_schema.url).close()  # the bot's default
    assert pg_schema.query(f"SELECT MAX(version) FROM {VERSION_TABLE}") == [(code_version(),)]


def test_auto_migrate_setting():
    from bot.settings import BotSettings

    assert BotSettings.from_env({}, use_keyring=False).auto_migrate is True
    assert BotSettings.from_env({"NEXTCALLER_OPS_AUTO_MIGRATE": "0"}, use_keyring=False).auto_migrate is False
