"""``nextcaller-ops audit``: who looked which number up, when, where — from the audit log.

Reads the same log the bot, the CLI and the notebook write: the SQLite file in
the data dir, or PostgreSQL when ``NEXTCALLER_OPS_DATABASE_URL`` is set.
Oldest first; ``--format csv|json`` for a spreadsheet or a script.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..errors import UsageError
from . import _common as c

if TYPE_CHECKING:
    from ..stores import AuditEntry

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
COLUMNS = ("time", "user", "where", "action", "phone", "outcome", "detail")


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "who looked which number up: read the audit log"
    p = sub.add_parser("audit", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("--since", help="only entries this recent: 30m, 24h, 7d, or a date like 2026-11-01 (UTC)")
    p.add_argument("--user", help="only this user: a Slack user ID, or os:NAME for the CLI and notebooks")
    p.add_argument("--phone", help="only lookups of this number")
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")
    p.add_argument("--profile")


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


def run(args: argparse.Namespace) -> int:
    import time

    from ..audit import retention_days
    from ..config import data_dir
    from ..phone import parse
    from ..stores import open_audit_store

    since = parse_since(args.since, time.time()) if args.since else None
    phone = parse(args.phone).number if args.phone else None
    settings = c.settings(args)
    store = open_audit_store(data_dir(), retention_days=retention_days(), database_url=settings.database_url)
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
        writer.writerows(rows)
    elif not rows:
        c.out("No audit entries match.")
    else:
        widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in COLUMNS[:-1]}
        c.out("  ".join(k.upper().ljust(widths[k]) for k in COLUMNS[:-1]) + "  DETAIL")
        for r in rows:
            c.out("  ".join(r[k].ljust(widths[k]) for k in COLUMNS[:-1]) + "  " + r["detail"])
    return c.EXIT_OK
