"""SQLite files that hold personal data: created 0600 before SQLite opens them.

SQLite gives its -wal and -shm side files the main file's mode, so creating the
main file private is enough.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["open_private_db"]


def open_private_db(path: str | os.PathLike) -> sqlite3.Connection:
    """A connection (autocommit, WAL, shareable across threads under the caller's lock)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; an OS crash may lose the last commits
    return db
