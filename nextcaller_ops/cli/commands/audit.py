"""``nextcaller-ops audit``: who looked which number up, when, where — from the audit log.

Reads the same log the bot, the CLI and the notebook write: the SQLite file in
the data dir, or PostgreSQL when ``NEXTCALLER_OPS_DATABASE_URL`` is set.
Oldest first; ``--format csv|json`` for a spreadsheet or a script.  Reading never
deletes: ``audit purge --older-than 90d`` is the one way to from here (the running
bot keeps to ``NEXTCALLER_OPS_AUDIT_RETENTION_DAYS`` on its own).

What the log holds came from people (a detail, an email looked up): the text table
shows control characters as U+FFFD, and a CSV cell a spreadsheet would read as a
formula (``=``, ``+``, ``-``, ``@``) starts with a single quote, as OWASP advises.
JSON is exact (its encoder escapes control characters).
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ...config import DURATION_UNITS as _UNITS
from ...config import parse_duration
from ...errors import UsageError
from .. import _common as c

if TYPE_CHECKING:
    from ...stores import AuditEntry, AuditStore

COLUMNS = ("time", "user", "where", "action", "phone", "outcome", "detail")

# What a terminal acts on instead of showing: C0 and C1 controls (ESC starts an escape sequence),
# DEL, line and paragraph separators (a new line inside a cell), bidirectional overrides and
# isolates (text shown in another order than it is), lone surrogates.
_NOT_INERT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A cell a spreadsheet reads as a formula (OWASP "CSV injection"; the fullwidth forms too).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "who looked which number up: read the audit log (or purge old entries)"
    p = sub.add_parser("audit", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("--since", help="only entries this recent: 30m, 24h, 7d, or a date like 2026-11-01 (UTC)")
    p.add_argument("--user", help="only this user: a Slack user ID, or os:NAME for the CLI and notebooks")
    p.add_argument("--phone", help="only lookups of this number")
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")
    p.add_argument("--profile")
    actions = p.add_subparsers(dest="audit_action", metavar="{purge}")
    purge_text = "delete every entry older than a duration (from every user; asks nothing)"
    purge = actions.add_parser("purge", help=purge_text, description=purge_text)
    purge.set_defaults(run=run_purge)
    purge.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 90d, 12h, 30m")
    purge.add_argument("--profile", dest="purge_profile", metavar="PROFILE")


def parse_since(text: str, now: float) -> float:
    """Epoch seconds for ``--since``: a duration back from ``now`` or a UTC date/time."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if match:
        return now - float(match[1]) * _UNITS[match[2]]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--since {text[:40]!r} is neither a duration nor a date", hint="use e.g. 30m, 24h, 7d or 2026-11-01"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def parse_older_than(text: str) -> float:
    """Seconds for ``--older-than``: a number and a unit (``90d``, ``12h``, ``30m``, ``45s``, ``2w``), over 0."""
    try:  # the one duration parser (the bot's triage timers read theirs with it too)
        return parse_duration(text)
    except ValueError:
        if re.fullmatch(r"\s*0+(\.0*)?\s*[smhdw]\s*", text.lower()):
            raise UsageError("--older-than must be longer than 0", hint="e.g. 90d keeps the last 90 days") from None
        shown = _NOT_INERT.sub("\ufffd", text[:40])
        raise UsageError(
            f"--older-than {shown!r} is not a duration", hint="give a number and a unit: e.g. 90d, 12h or 30m"
        ) from None


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _row(entry: AuditEntry) -> dict[str, str]:
    return {
        "time": _when(entry["ts"]),
        "user": entry["user_id"] or "",
        "where": entry["channel_id"] or "",
        "action": entry["action"],
        "phone": entry["phone"] or "",
        "outcome": entry["outcome"],
        "detail": entry["detail"] or "",
    }


def inert(value: str) -> str:
    """``value`` for a terminal: every character it would act on shown as U+FFFD."""
    return _NOT_INERT.sub("\ufffd", value)


def formula_safe(value: str) -> str:
    """``value`` for a CSV cell: inert, and quoted with a leading ``'`` when a spreadsheet would run it."""
    value = inert(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _open_store(profile: str | None) -> AuditStore:
    from ...config import data_dir
    from ...stores import open_audit_store

    settings = c.settings(argparse.Namespace(profile=profile))
    return open_audit_store(data_dir(), database_url=settings.database_url)


def run(args: argparse.Namespace) -> int:
    import time

    from ...api.phone import parse

    since = parse_since(args.since, time.time()) if args.since else None
    phone = parse(args.phone).number if args.phone else None
    store = _open_store(args.profile)
    try:
        rows = [_row(e) for e in store.entries(since=since, user_id=args.user or None, phone=phone)]
    finally:
        store.close()
    if args.format == "json":
        import json

        c.out(json.dumps(rows, indent=2))
    elif args.format == "csv":
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: formula_safe(v) for k, v in r.items()} for r in rows)
    elif not rows:
        c.out("No audit entries match.")
    else:
        shown = [{k: inert(v) for k, v in r.items()} for r in rows]
        widths = {k: max(len(k), *(len(r[k]) for r in shown)) for k in COLUMNS[:-1]}
        c.out("  ".join(k.upper().ljust(widths[k]) for k in COLUMNS[:-1]) + "  DETAIL")
        for r in shown:
            c.out("  ".join(r[k].ljust(widths[k]) for k in COLUMNS[:-1]) + "  " + r["detail"])
    return c.EXIT_OK


def run_purge(args: argparse.Namespace) -> int:
    """Delete the entries older than ``--older-than``, say how many, and leave a line saying who did."""
    import time

    from ...audit import os_user

    # `audit --user U1 purge` reads as "purge U1's entries" but would purge everyone's: refuse.
    for flag in ("since", "user", "phone"):
        if getattr(args, flag):
            raise UsageError(
                f"audit purge takes no --{flag}: it deletes every entry older than --older-than, whoever made it",
                hint="drop --" + flag,
            )
    if args.format != "text":
        raise UsageError("audit purge takes no --format: it prints one line", hint="drop --format")
    age = parse_older_than(args.older_than)
    before = time.time() - age
    store = _open_store(args.purge_profile or args.profile)
    try:
        deleted = store.purge(before)
        store.record(  # who emptied the log, and how far, stays in it
            user_id=os_user(),
            channel_id="cli",
            action="purge",
            phone=None,
            outcome=f"deleted {deleted}",
            detail=f"older than {args.older_than.strip()}",
        )
    finally:
        store.close()
    noun = "entry" if deleted == 1 else "entries"
    c.out(f"Deleted {deleted} audit {noun} older than {args.older_than.strip()} (before {_when(before)}).")
    return c.EXIT_OK
