"""The sandbox's data: consumers and records in SQLite, seeded from :mod:`.seed`."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from .records import apply_correction
from .seed import (
    DEMO_CONSUMER_SECRET,
    SEINFELD,
    STATUS_CONSUMERS,
    household_records,
    record_id,
    synthetic_phone,
    synthetic_record,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consumers (key TEXT PRIMARY KEY, secret TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS phones (phone TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (phone, id));
CREATE TABLE IF NOT EXISTS corrections (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,
    body TEXT NOT NULL, received REAL NOT NULL, idempotency_key TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- v2.1 looks people up by email and by name: expression indexes serve databases made before it too.
CREATE INDEX IF NOT EXISTS records_email ON records (lower(json_extract(doc, '$.email')));
CREATE INDEX IF NOT EXISTS records_last_name ON records (lower(json_extract(doc, '$.last_name')));
"""


class Store:
    """Thread-safe access to the sandbox database: a connection per thread."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    # -- seeding --------------------------------------------------------------
    def seed(self, records: int, consumer_key: str, consumer_secret: str) -> None:
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO consumers VALUES (?, ?, 'active')", (consumer_key, consumer_secret)
                )
                for key, status in STATUS_CONSUMERS.items():
                    conn.execute(
                        "INSERT OR IGNORE INTO consumers VALUES (?, ?, ?)", (key, DEMO_CONSUMER_SECRET, status)
                    )
                row = conn.execute("SELECT value FROM meta WHERE name='seeded'").fetchone()
                seeded = int(row[0]) if row else -1
                if seeded < 0:
                    for rec in [SEINFELD, *household_records()]:
                        self._insert(conn, rec)
                    seeded = 0
                if records > seeded:
                    # INSERT OR IGNORE: a corrected record keeps its correction.
                    conn.executemany(
                        "INSERT OR IGNORE INTO records VALUES (?, ?)",
                        ((r["id"], json.dumps(r)) for r in (synthetic_record(i) for i in range(seeded, records))),
                    )
                    conn.executemany(
                        "INSERT OR IGNORE INTO phones VALUES (?, ?)",
                        ((synthetic_phone(i), record_id(f"synthetic:{i}")) for i in range(seeded, records)),
                    )
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('seeded', ?)", (str(records),))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(conn: sqlite3.Connection, rec: dict[str, Any]) -> None:
        conn.execute("INSERT OR IGNORE INTO records VALUES (?, ?)", (rec["id"], json.dumps(rec)))
        for p in rec.get("phone", []):
            conn.execute("INSERT OR IGNORE INTO phones VALUES (?, ?)", (p["number"], rec["id"]))

    def add_consumer(self, key: str, secret: str, status: str = "active") -> None:
        with self._write_lock:
            self._conn().execute("INSERT OR REPLACE INTO consumers VALUES (?, ?, ?)", (key, secret, status))

    def consumer(self, key: str) -> tuple[str, str] | None:
        row = self._conn().execute("SELECT secret, status FROM consumers WHERE key=?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    # -- records --------------------------------------------------------------
    def find_by_phone(self, phone: str) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT r.doc FROM phones p JOIN records r ON r.id = p.id WHERE p.phone=? ORDER BY r.rowid", (phone,)
            )
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def find_by_email(self, email: str) -> list[dict[str, Any]]:
        rows = (
            self._conn()
            .execute(
                "SELECT doc FROM records WHERE lower(json_extract(doc, '$.email')) = ? ORDER BY rowid",
                (email.strip().lower(),),
            )
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def find_by_name(self, last_name: str) -> list[dict[str, Any]]:
        """Records with this last name (any case); the caller narrows by first name and address."""
        rows = (
            self._conn()
            .execute(
                "SELECT doc FROM records WHERE lower(json_extract(doc, '$.last_name')) = ? ORDER BY rowid",
                (last_name.strip().lower(),),
            )
            .fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    def get(self, record_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM records WHERE id=?", (record_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def update(
        self, record_id: str, body: dict[str, Any], received: float, idempotency_key: str | None = None
    ) -> dict[str, Any] | None:
        """Apply a correction; one already applied under ``idempotency_key`` is not applied again."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT doc FROM records WHERE id=?", (record_id,)).fetchone()
                seen = (
                    idempotency_key
                    and conn.execute("SELECT 1 FROM corrections WHERE idempotency_key=?", (idempotency_key,)).fetchone()
                )
                if row is None or seen:
                    conn.execute("ROLLBACK")
                    return json.loads(row[0]) if row else None
                updated = apply_correction(json.loads(row[0]), body)
                conn.execute("UPDATE records SET doc=? WHERE id=?", (json.dumps(updated), record_id))
                conn.execute("DELETE FROM phones WHERE id=?", (record_id,))
                for p in updated.get("phone", []):
                    conn.execute("INSERT OR IGNORE INTO phones VALUES (?, ?)", (p["number"], record_id))
                conn.execute(
                    "INSERT INTO corrections (id, body, received, idempotency_key) VALUES (?, ?, ?, ?)",
                    (record_id, json.dumps(body), received, idempotency_key),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return updated

    def corrections(self, record_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, body FROM corrections"
        args: tuple = ()
        if record_id:
            sql += " WHERE id=?"
            args = (record_id,)
        return [{"id": r[0], "body": json.loads(r[1])} for r in self._conn().execute(sql + " ORDER BY seq", args)]

    def count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM records").fetchone()[0]
