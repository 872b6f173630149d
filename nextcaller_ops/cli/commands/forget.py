"""``nextcaller-ops forget PHONE|EMAIL [--yes]``: remove one person's data from every store.

Counts first (one line per store), asks, then removes (:mod:`nextcaller_ops.forgetting` does
the work; this verb only words it).  Without a terminal to ask on it refuses unless
``--yes``.  ``--check`` answers "was this number forgotten?" from the audit log's keyed
hashes, removing nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from ...errors import UsageError
from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "remove one person's data (a number or an email) from every store: audit, caches, triage, outbox"
    p = sub.add_parser("forget", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("target", metavar="PHONE|EMAIL")
    p.add_argument("--yes", action="store_true", help="do not ask before removing")
    p.add_argument("--check", action="store_true", help="only say whether it was forgotten before (removes nothing)")
    p.add_argument("--profile")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    from ...forgetting import forget, target_for, was_forgotten

    target = target_for(args.target)  # a malformed number or address: exit 2 before any store
    settings = c.settings(args)
    if args.check:
        times = was_forgotten(args.target, settings=settings)
        if not times:
            c.out(f"{target.shown} was never forgotten here.")
            return c.EXIT_API
        c.out(f"{target.shown} was forgotten on {', '.join(_when(t) for t in times)}.")
        return c.EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("no terminal to confirm the forget on", hint="add --yes to remove without asking")
        plan = forget(args.target, apply=False, settings=settings)
        c.out(f"{target.shown} is held in:")
        for line in plan.lines():
            c.out(f"  {line}")
        answer = input(f"Remove {plan.total} entr{'y' if plan.total == 1 else 'ies'} for good? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            c.out("Nothing removed.")
            return c.EXIT_OK
    report = forget(args.target, settings=settings)
    c.out(f"Forgot {target.shown}: {report.total} entr{'y' if report.total == 1 else 'ies'} removed.")
    for line in report.lines():
        c.out(f"  {line}")
    if report.unreachable:
        c.err(f"Not reached: {', '.join(report.unreachable)}; run it again once they are up.")
        return c.EXIT_API
    return c.EXIT_OK
