"""Forgetting one person (issue 23): every store, any spelling, nothing left but the keyed-hash record.

Run on the embedded SQLite files (and the persistent cache file) and on PostgreSQL + Redis.
After the forget, every text column of every table (every SQLite file in the data dir, or
every table of the test's schema) and every Redis key and value under the test's prefix is
searched for the number in any punctuation and the record's email and name.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from nextcaller_ops.stores.base import TriageItem
from tests.support.secrets import WEBHOOK_SECRET

NUMBER, OTHER = "2125558383", "3125550142"
# The number in any punctuation (212***8383, masked, is not the number).
SPELLED = re.compile(r"(?<!\d)(?:\+?1[\s.\-]*)?\(?212\)?[\s.\-]*555[\s.\-]*8383(?!\d)")


def leftovers(texts: list[str], words: list[str]) -> list[str]:
    """Every text holding the number (any spelling) or one of ``words`` (any case)."""
    return [t for t in texts if SPELLED.search(t) or any(w.casefold() in t.casefold() for w in words)]


def sqlite_texts(data_dir: Path) -> list[str]:
    """Every text value of every table of every SQLite file in ``data_dir``."""
    texts: list[str] = []
    for path in sorted(data_dir.glob("*.sqlite3")):
        db = sqlite3.connect(path)
        try:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    texts.extend(f"{path.name}.{table}: {v}" for v in row if isinstance(v, str | bytes))
        finally:
            db.close()
    return texts


def postgres_texts(pg_schema) -> list[str]:
    """Every text and JSON value of every table in the test's schema."""
    texts: list[str] = []
    columns = pg_schema.query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s"
        " AND data_type IN ('text', 'jsonb', 'json', 'character varying')",
        pg_schema.name,
    )
    for table, column in columns:
        for (value,) in pg_schema.query(f'SELECT "{column}"::text FROM "{table}"'):
            if value is not None:
                texts.append(f"{table}.{column}: {value}")
    return texts


def redis_texts(redis_space) -> list[str]:
    """Every key under the test's prefix and every value it holds."""
    r = redis_space.client
    texts: list[str] = []
    for key in r.scan_iter(match=f"{redis_space.prefix}:*", count=500):
        texts.append(key.decode())
        kind = r.type(key)
        if kind == b"string":
            texts.append(r.get(key).decode("utf-8", "replace"))
        elif kind == b"set":
            texts.extend(m.decode() for m in r.smembers(key))
        elif kind == b"hash":
            texts.extend(f"{k.decode()}={v.decode()}" for k, v in r.hgetall(key).items())
        elif kind == b"list":
            texts.extend(v.decode() for v in r.lrange(key, 0, -1))
        elif kind == b"zset":
            texts.extend(m.decode() for m in r.zrange(key, 0, -1))
    return texts


@pytest.fixture(params=["sqlite", "shared"])
def backend(request, api_env, monkeypatch, tmp_path):
    """The environment for one backend: SQLite files (+ a persistent cache file), or PostgreSQL + Redis."""
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_KEY", "a-test-key-for-the-audit-log-hmac")
    # outgoing webhooks with full numbers: their outbox holds the person too (nobody listens: rows stay queued)
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_PII", "1")
    if request.param == "sqlite":
        monkeypatch.setenv("NEXTCALLER_CACHE_PATH", str(tmp_path / "data" / "cache.sqlite3"))
        return {"kind": "sqlite", "texts": lambda: sqlite_texts(tmp_path / "data"), "url": None}
    pg_schema = request.getfixturevalue("pg_schema")
    redis_space = request.getfixturevalue("redis_space")
    monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", redis_space.url)
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_PREFIX", redis_space.prefix)
    from nextcaller_ops.stores.postgres import migrate_url

    migrate_url(pg_schema.url)  # as the bot or `db migrate` does: the CLI's audit hook runs no DDL
    return {
        "kind": "shared",
        "texts": lambda: postgres_texts(pg_schema) + redis_texts(redis_space) + sqlite_texts(tmp_path / "data"),
        "url": pg_schema.url,
        "redis": redis_space,
    }


@pytest.fixture
def client(backend):
    """A client auditing as the CLI does, on the backend's environment."""
    from nextcaller_ops.audit import local_auditor
    from nextcaller_ops.client.client import NextCallerClient

    with NextCallerClient(audit=local_auditor("cli"), sleep=lambda s: None) as nc:
        yield nc


def _seed(backend, client) -> dict:
    """Lookups of both numbers, and everything the bot would have kept about the first."""
    from nextcaller_ops.config import data_dir
    from nextcaller_ops.stores import open_stores

    record = client.lookup("(212) 555-8383").profiles[0]
    other = client.lookup(OTHER).profiles[0]
    stores = open_stores(data_dir(), database_url=backend["url"])
    try:
        stores.audit.record(
            user_id="U1", channel_id="C1", action="share", phone=None, outcome="ok", detail=f"shared {record.email}"
        )
        stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone=OTHER, outcome="found 1")
        for ts, numbers, reply in (("1.1", [NUMBER], "1.2"), ("2.1", [NUMBER, OTHER], None), ("3.1", [OTHER], "3.2")):
            item = stores.triage.add(TriageItem("C9", ts, ts, "U2", numbers, created=1000.0), lease_seconds=30)
            assert item is not None
            cards = [{"name": record.name if NUMBER in numbers else other.name, "phone": "+1 212-555-8383"}]
            stores.triage.save_reply(item, cards=cards if NUMBER in numbers else [{"name": other.name}], summary="x")
            if reply:
                stores.triage.save_reply_ts(item, reply)
            for n in numbers:
                stores.triage.sighted("C9", n, ts, 1000.0)
        stores.triage.snooze("C9", "1.1", "U2", 1000.0, 2e9)  # the number snoozed in the channel
        stores.triage.snooze("C9", "3.1", "U2", 1000.0, 2e9)
        stores.outbox.submit(record.id, {"email": "new@example.com"}, now=1.0, user_id="U3", channel_id="C3")
        done, _ = stores.outbox.submit(record.id, {"name": "J S"}, now=1.0, user_id="U3")
        stores.outbox.claim(done.id, now=2.0, lease_seconds=30)
        stores.outbox.finish(stores.outbox.get(done.id), "delivered", now=3.0, next_attempt=0)  # type: ignore[arg-type]
        stores.outbox.submit(other.id, {"email": "other@example.com"}, now=1.0, user_id="U3")
        assert stores.dedupe.claim(f"lookup:U1:{NUMBER}")
        assert stores.dedupe.claim(f"lookup:U1:{OTHER}")
        _emit_webhooks(stores, record)
    finally:
        stores.close()
    if backend["kind"] == "shared":  # a single-flight answer a process left behind
        space = backend["redis"]
        space.client.set(f"{space.prefix}:flight:ns:{NUMBER}:tok", json.dumps({"phone": NUMBER}), px=60_000)
    return {"record": record, "other": other}


def _emit_webhooks(stores, record) -> None:
    """The events the bot would have queued for the receiver (as the bot words them), one already sent."""
    from nextcaller_ops.stores.webhook_base import SENT
    from nextcaller_ops.webhooks import Webhooks, WebhookSettings

    hooks = Webhooks(WebhookSettings.from_env(), stores.webhooks, clock=lambda: 1000.0)
    assert hooks.enabled and hooks.settings.pii
    hooks.emit("lookup.completed", {"surface": "slack", "by": "U1", "phone": NUMBER, "found": True})
    sent = stores.webhooks.claim(now=1000.0, lease_seconds=60)  # delivered: kept a week, the number with it
    stores.webhooks.finish(sent, SENT, now=1001.0, next_attempt=1001.0)
    hooks.emit("triage.opened", {"channel_id": "C9", "message_ts": "1.1", "poster": "U2", "phones": [NUMBER]})
    hooks.emit("correction.delivered", {"correction_id": 2, "profile_id": record.id, "by": "U3"})  # no number
    hooks.emit("lookup.completed", {"surface": "slack", "by": "U1", "phone": OTHER, "found": True})
    hooks.emit("triage.claimed", {"channel_id": "C9", "message_ts": "3.1", "by": "U2"})


def webhook_leftovers(texts: list[str], words: list[str]) -> list[str]:
    """The leftovers in the webhook outbox's table (SQLite's or PostgreSQL's)."""
    return [t for t in leftovers(texts, words) if "webhook_outbox" in t.split(":", 1)[0]]


def test_forget_leaves_nothing_of_the_person_in_any_store(backend, client, sandbox):
    from nextcaller_ops.forgetting import forget, was_forgotten

    seeded = _seed(backend, client)
    record = seeded["record"]
    words = [record.email, record.name]
    assert leftovers(backend["texts"](), words)  # the test sees the person before
    assert len(webhook_leftovers(backend["texts"](), [record.id])) == 3  # the webhook outbox's table is searched

    report = forget("+1 (212) 555-8383")
    assert report.counts["audit log"] >= 2  # the lookup, the share naming the email
    assert report.counts["triage items"] == 2 and report.counts["sightings"] == 2
    assert report.counts["outbox"] == 2 and report.counts["de-dup keys"] == 1
    assert report.counts["webhook outbox"] == 3  # the lookup (sent), the triage item, the correction of the record
    assert "webhook outbox: 3" in report.lines()
    if backend["kind"] == "shared":
        assert (
            report.counts["Redis cache"] == 1 and report.counts["Redis single-flight"] >= 1
        )  # ours, and the lookup's answer

    assert leftovers(backend["texts"](), words) == []
    assert webhook_leftovers(backend["texts"](), [record.id]) == []
    # Only the hashed forget record names the number now
    assert was_forgotten("212.555.8383") and not was_forgotten(OTHER)

    # another number's rows are untouched
    from nextcaller_ops.config import data_dir
    from nextcaller_ops.stores import open_stores

    stores = open_stores(data_dir(), database_url=backend["url"])
    try:
        assert [e["phone"] for e in stores.audit.entries(phone=OTHER)] == [OTHER, OTHER]
        assert stores.triage.get("C9", "3.1") is not None and stores.triage.sightings("C9", OTHER, 0) == 2
        assert stores.outbox.counts()["pending"] == 1  # the other's correction
        cancelled = stores.outbox.cancelled()  # the person's waiting correction: cancelled, its agent to be told
        assert [(c.user_id, c.body, c.profile_id) for c in cancelled] == [("U3", {}, "")]
        redactions = stores.triage.redactions()  # the reply in Slack, to be edited by the bot
        assert [(i.channel_id, i.reply_ts, i.numbers, i.cards) for i in redactions] == [("C9", "1.2", [], None)]
        assert not stores.dedupe.claim(f"lookup:U1:{OTHER}")
        assert stores.triage.snoozed("C9", OTHER, 1000.0) and not stores.triage.snoozed("C9", NUMBER, 1000.0)
        assert stores.webhooks.counts()["pending"] == 2  # the other number's lookup, a claim naming no one
    finally:
        stores.close()
    assert client.cache.get(OTHER) is not None

    # the next lookup of the forgotten number goes to the API
    before = sandbox.httpd.request_count
    client.lookup(NUMBER)
    assert sandbox.httpd.request_count == before + 1

    # idempotent: a second forget finds only what the new lookup put back
    again = forget(NUMBER)
    assert again.counts["triage items"] == 0 and again.counts["outbox"] == 0 and again.counts["webhook outbox"] == 0


def test_forget_by_email_takes_the_records_it_returned(backend, client):
    from nextcaller_ops.forgetting import forget

    seeded = _seed(backend, client)
    report = forget(seeded["record"].email.upper())
    assert report.counts["audit log"] >= 2
    assert report.counts["webhook outbox"] == 3  # the number and the profile id, found through the record
    assert leftovers(backend["texts"](), [seeded["record"].email, seeded["record"].name]) == []
    assert webhook_leftovers(backend["texts"](), [seeded["record"].id]) == []


def test_forget_refuses_what_is_neither_a_number_nor_an_address():
    from nextcaller_ops.errors import UsageError
    from nextcaller_ops.forgetting import forget

    with pytest.raises(UsageError):
        forget("555-83")
    with pytest.raises(UsageError):
        forget("not@an address")


def test_the_notebooks_public_face_forgets_from_its_own_clients_cache(api_env, monkeypatch):
    import nextcaller_ops
    from nextcaller_ops.client.client import NextCallerClient

    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_KEY", "a-test-key-for-the-audit-log-hmac")
    with NextCallerClient() as nc:
        nc.lookup(NUMBER)
        report = nextcaller_ops.forget("212-555-8383")
        assert report.counts["lookup cache"] == 1 and nc.cache.get(NUMBER) is None


def test_the_running_bots_retention_purges_the_cache_files_expired_rows_and_readers_never_do(tmp_path):
    """Fake clock: an expired row stays in the file while it is read; the bot's purge_all deletes it."""
    from bot.retention import Retention, purge_all
    from nextcaller_ops.api.models import LookupResult
    from nextcaller_ops.cache.memory import LookupCache
    from nextcaller_ops.stores import open_stores

    now = [1000.0]
    cache = LookupCache(ttl=300, path=tmp_path / "cache.sqlite3", clock=lambda: now[0])
    cache.put(LookupResult(NUMBER, ()))  # "no record": kept miss_ttl (30 s)
    cache.put(LookupResult(OTHER, ()))
    now[0] += 10
    cache.put(LookupResult("4155550100", ()))
    now[0] += 25  # the first two expired, the third not
    assert cache.get(NUMBER) is None  # a reader skips it ...
    rows = lambda: sqlite3.connect(tmp_path / "cache.sqlite3").execute("SELECT phone FROM lookups").fetchall()  # noqa: E731
    assert len(rows()) == 3  # ... and deletes nothing
    stores = open_stores(tmp_path / "bot", clock=lambda: now[0])
    try:
        purged = purge_all(stores, Retention(), now[0])
    finally:
        stores.close()
    assert purged["cache file"] == 2 and rows() == [("4155550100",)]
    cache.close()
