"""The audit log: who looked up which number, where, when, with what outcome.

SQLite, file mode 0600 (it holds personal data), entries older than the
retention purged on open.  The bot records Slack users and channels; the CLI
and the notebook record the OS user and ``cli`` / ``notebook``.
"""

from __future__ import annotations

import getpass
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .redact import mask_phone
from .storage import open_private_db

__all__ = ["AuditLog", "local_auditor"]

log = logging.getLogger("nextcaller_ops.audit")

Auditor = Callable[..., None]


class AuditLog:
    """Who looked up which number, where, when, with what outcome (SQLite, file mode 0600)."""

    def __init__(self, path: str | os.PathLike, retention_days: int = 90, clock=time.time):
        self.path = Path(path)
        self.retention_days = retention_days
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS audit (
            ts REAL NOT NULL, user_id TEXT, channel_id TEXT, action TEXT NOT NULL,
            phone TEXT, outcome TEXT NOT NULL, detail TEXT)""")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, ts)")
        self.purge()

    def record(
        self,
        *,
        user_id: str | None,
        channel_id: str | None,
        action: str,
        phone: str | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._clock(), user_id, channel_id, action, phone, outcome, detail[:500]),
            )

    def purge(self) -> int:
        """Delete entries older than the retention period; returns how many."""
        if self.retention_days <= 0:
            return 0
        cutoff = self._clock() - self.retention_days * 86400
        with self._lock:
            return self._db.execute("DELETE FROM audit WHERE ts < ?", (cutoff,)).rowcount

    def recent(self, user_id: str, limit: int = 5) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, action, phone, outcome FROM audit WHERE user_id=? AND action IN ('lookup', 'refresh')"
                " ORDER BY ts DESC LIMIT ?",
                (user_id, limit),
            ).fetchall()
        return [{"ts": r[0], "action": r[1], "phone": mask_phone(r[2]) if r[2] else "", "outcome": r[3]} for r in rows]

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, user_id, channel_id, action, phone, outcome, detail FROM audit ORDER BY ts"
            ).fetchall()
        keys = ("ts", "user_id", "channel_id", "action", "phone", "outcome", "detail")
        return [dict(zip(keys, r, strict=False)) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def local_auditor(where: str) -> Auditor:
    """An audit hook for the client, recording the OS user and ``where`` (``cli``, ``notebook``).

    A broken audit file is reported once in the log and does not stop lookups.
    """
    from .config import data_dir, env_number

    retention = env_number(os.environ, "NEXTCALLER_OPS_AUDIT_RETENTION_DAYS", 90)  # a bad value: one clear error
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    audit: AuditLog | None = None
    failed = False
    opening = threading.Lock()

    def record(action: str, phone: str | None, outcome: str, detail: str = "") -> None:
        nonlocal audit, failed
        if failed:
            return
        try:
            with opening:  # opened on first use: `--help` and refusals never touch the file
                if audit is None:
                    audit = AuditLog(data_dir() / "audit.sqlite3", retention)
            audit.record(
                user_id=f"os:{user}", channel_id=where, action=action, phone=phone, outcome=outcome, detail=detail
            )
        except Exception as exc:
            failed = True
            log.warning("audit log unavailable (%s); lookups go on unaudited", type(exc).__name__)

    return record
