"""Auditing: every call the client makes goes in the audit log, naming who asked and where.

The log itself is a store (:mod:`nextcaller_ops.stores`: who looked up which
number, where, when, with what outcome).  The client calls its audit hook after
every call (:mod:`nextcaller_ops.client.auditing`) but knows nobody: the surface
says who is asking.  The CLI and the notebook record the OS user and ``cli`` /
``notebook`` (:func:`local_auditor`).  The bot serves many people on many threads:
a listener wraps its calls in :func:`asking` (a context variable, so each thread,
each request, has its own asker), and :func:`store_auditor` reads it.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .client.auditing import Failure
from .stores import AuditStore, open_audit_store
from .stores.schema import SchemaError, SchemaNewerError

__all__ = ["Asking", "asking", "current_asker", "store_auditor", "local_auditor", "os_user"]

log = logging.getLogger("nextcaller_ops.audit")

Auditor = Callable[..., None]


@dataclass(frozen=True)
class Asking:
    """Who asks the client for something, where, and what the audit log calls it."""

    user_id: str | None
    channel_id: str | None
    action: str | None = None  # the surface's name for the call (refresh, triage_card…); None: the client's
    detail: str | None = None  # the surface's detail for a call that succeeds; None: the client's
    audited: bool = True  # False: the surface writes its own row for this call (a share, a form opened)


# Context variables are per thread (and per asyncio task): a thread a lookup is handed to sets its own.
_asking: ContextVar[Asking | None] = ContextVar("nextcaller_ops_asking", default=None)


@contextmanager
def asking(
    *,
    user_id: str | None,
    channel_id: str | None,
    action: str | None = None,
    detail: str | None = None,
    audited: bool = True,
) -> Iterator[Asking]:
    """The client's calls made inside this block are audited as ``user_id``'s, in ``channel_id``."""
    who = Asking(user_id, channel_id, action, detail, audited)
    token = _asking.set(who)
    try:
        yield who
    finally:
        _asking.reset(token)


def current_asker() -> Asking | None:
    """Who is asking in this thread now (None outside :func:`asking`)."""
    return _asking.get()


def store_auditor(store: AuditStore, default_user: str | None, default_channel: str | None) -> Auditor:
    """The client's audit hook for a surface serving many people (the bot): each row names the
    :func:`asking` block's user and channel (``default_user`` / ``default_channel`` outside any).

    Its words: ``found N`` / ``no record`` / ``risk …`` as the client says, and an error as
    ``error`` with the error's name and API code in the detail (what an admin greps for).
    """

    def record(action: str, phone: str | None, outcome: str, detail: str = "") -> None:
        who = _asking.get()
        if who is not None and not who.audited:
            return
        user, channel = (who.user_id, who.channel_id) if who is not None else (default_user, default_channel)
        if who is not None and who.action:
            action = who.action
        if isinstance(outcome, Failure):
            error = f"{type(outcome.error).__name__} {outcome.error.code or ''}".strip()
            outcome, detail = "error", "; ".join(part for part in (error, detail) if part)
        elif who is not None and who.detail is not None:
            detail = who.detail
        store.record(user_id=user, channel_id=channel, action=action, phone=phone, outcome=str(outcome), detail=detail)

    return record


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
            audit.record(
                user_id=user, channel_id=where, action=action, phone=phone, outcome=str(outcome), detail=detail
            )
        except SchemaNewerError:  # written by a newer release: this code must not touch it
            raise
        except SchemaError as exc:  # behind: the CLI and the notebook run no DDL; one line says who does
            failed = True
            log.warning("audit log unavailable: %s — %s; lookups go on unaudited", exc.message, exc.hint)
        except Exception as exc:
            failed = True
            log.warning("audit log unavailable (%s); lookups go on unaudited", type(exc).__name__)

    return record
