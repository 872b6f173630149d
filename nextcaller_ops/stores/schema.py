"""The schema's version: the one this code knows, the one a database holds, and what to do when they differ.

One numbering for both backends: the numbered files in ``migrations/`` (PostgreSQL's
DDL, mirrored in the SQLite stores' own schema code).  The code's version is the
highest number there.

- PostgreSQL keeps the versions applied in ``nextcaller_schema_version``; only the bot
  (unless ``NEXTCALLER_OPS_AUTO_MIGRATE=0``) and ``nextcaller-ops db migrate`` apply
  migrations.  The CLI and the notebook run no DDL: behind, they say to run ``db migrate``.
- Each SQLite file (the user's own, 0600) keeps the same numbers in ``schema_version``; the
  stores create and upgrade their tables in code, and stamp the code's version.
- Whatever the backend, a schema newer than the code is refused: the code would misread it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from importlib import resources
from pathlib import Path

from ..errors import Action, UsageError

__all__ = [
    "SQLITE_TABLE",
    "SQLITE_FILES",
    "SchemaError",
    "SchemaBehindError",
    "SchemaNewerError",
    "migrations",
    "code_version",
    "stamp_sqlite",
    "sqlite_version",
]

SQLITE_TABLE = "schema_version"
# The SQLite files the stores keep in the data dir (stores/__init__.py opens them).
SQLITE_FILES = ("audit.sqlite3", "outbox.sqlite3", "dedupe.sqlite3", "triage.sqlite3")


class SchemaError(UsageError):
    """The database's schema is not the one this code was written for."""

    action = Action.NONE  # the hint says what to do


class SchemaBehindError(SchemaError):
    def __init__(self, found: int, known: int, where: str = "the PostgreSQL database"):
        super().__init__(
            f"{where} is at schema version {found}; this nextcaller-ops needs {known}",
            hint="run `nextcaller-ops db migrate` (with a role that may change the schema), or start the bot, "
            "which migrates unless NEXTCALLER_OPS_AUTO_MIGRATE=0",
        )
        self.found, self.known = found, known


class SchemaNewerError(SchemaError):
    def __init__(self, found: int, known: int, where: str = "the PostgreSQL database"):
        super().__init__(
            f"{where} is at schema version {found}, newer than this nextcaller-ops knows ({known})",
            hint="upgrade nextcaller-ops to the release that wrote it (`pip install -U nextcaller-ops`); "
            "nothing was changed",
        )
        self.found, self.known = found, known


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every file ``NNNN_name.sql`` in ``migrations/``, in order."""
    found = []
    for item in (resources.files(__package__) / "migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", item.name)
        if match:
            found.append((int(match[1]), match[2], item.read_text(encoding="utf-8")))
    return sorted(found)


def code_version() -> int:
    """The highest migration this code ships (``migrations/NNNN_name.sql``)."""
    return max((number for number, _, _ in migrations()), default=0)


def _read(db: sqlite3.Connection) -> int:
    row = db.execute(f"SELECT COALESCE(MAX(version), 0) FROM {SQLITE_TABLE}").fetchone()
    return int(row[0])


def stamp_sqlite(path: str | os.PathLike) -> int:
    """Before a SQLite store opens ``path``: refuse a newer file, else record the code's version in it."""
    from .private_db import open_private_db

    known = code_version()
    db = open_private_db(path)
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS {SQLITE_TABLE} (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
        found = _read(db)
        if found > known:
            raise SchemaNewerError(found, known, where=str(Path(path)))
        if found < known:  # the store's own code creates or upgrades its tables as it opens
            db.execute(
                f"INSERT OR IGNORE INTO {SQLITE_TABLE} (version, applied) VALUES (?, julianday('now'))", (known,)
            )
    finally:
        db.close()
    return known


def sqlite_version(path: str | os.PathLike) -> int | None:
    """The version a SQLite file records (0: made before versions were kept); None when it does not exist.

    Read-only: creates nothing.
    """
    path = Path(path)
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (SQLITE_TABLE,)).fetchone()
        return _read(db) if exists else 0
    finally:
        db.close()
