"""Auditing for the CLI and the notebook: every lookup they make goes in the audit log.

The log itself is a store (:mod:`nextcaller_ops.stores`: who looked up which
number, where, when, with what outcome).  The bot records Slack users and
channels; the CLI and the notebook record the OS user and ``cli`` / ``notebook``.

Recording never deletes: how long the log keeps entries is the running bot's
setting (``NEXTCALLER_OPS_AUDIT_RETENTION_DAYS``, enforced by ``bot.retention``),
not that of whoever happens to look a number up.  ``nextcaller-ops audit purge
--older-than`` deletes explicitly.
"""

from __future__ import annotations

import atexit
import getpass
import logging
import os
import threading
from collections.abc import Callable

from .stores import AuditStore, open_audit_store

__all__ = ["local_auditor", "os_user"]

log = logging.getLogger("nextcaller_ops.audit")

Auditor = Callable[..., None]


def os_user() -> str:
    """``os:NAME``: who the CLI's and the notebook's audit entries name."""
    try:
        return f"os:{getpass.getuser()}"
    except Exception:  # no passwd entry (containers)
        return f"os:{os.getuid()}" if hasattr(os, "getuid") else "os:unknown"


def local_auditor(where: str, database_url: str | None = None) -> Auditor:
    """An audit hook for the client, recording the OS user and ``where`` (``cli``, ``notebook``).

    The log is PostgreSQL's at ``database_url`` (default ``NEXTCALLER_OPS_DATABASE_URL``)
    or the SQLite file in the data dir.  A broken audit log is reported once in the
    log and does not stop lookups.
    """
    from .config import data_dir

    url = database_url or os.environ.get("NEXTCALLER_OPS_DATABASE_URL") or None
    user = os_user()
    audit: AuditStore | None = None
    failed = False
    opening = threading.Lock()

    def record(action: str, phone: str | None, outcome: str, detail: str = "") -> None:
        nonlocal audit, failed
        if failed:
            return
        try:
            with opening:  # opened on first use: `--help` and refusals never touch the file
                if audit is None:
                    audit = open_audit_store(data_dir(), database_url=url)
                    atexit.register(audit.close)  # a PostgreSQL pool is closed, not abandoned
            audit.record(user_id=user, channel_id=where, action=action, phone=phone, outcome=outcome, detail=detail)
        except Exception as exc:
            failed = True
            log.warning("audit log unavailable (%s); lookups go on unaudited", type(exc).__name__)

    return record
