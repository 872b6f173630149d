"""``nextcaller-ops update PROFILE_ID --set FIELD=VALUE ...``: a correction, only the fields given."""

from __future__ import annotations

import argparse

from ...errors import UsageError
from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "post a correction to a profile (only the fields given change)"
    p = sub.add_parser("update", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("profile_id", metavar="PROFILE_ID")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="first_name, last_name, email, phone1-3, shipping_address1.line1 ... (repeatable)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be sent (old → new when known); send nothing"
    )
    p.add_argument("--profile", help="credentials profile")


def run(args: argparse.Namespace) -> int:
    from ... import corrections
    from ...api.correction_fields import parse_assignments

    if not args.set:
        raise UsageError("nothing to change", hint="add --set FIELD=VALUE (e.g. --set first_name=Clark)")
    changes = parse_assignments(args.set)
    # Refuse a bad id or field before touching credentials or the network.
    corrections.prepare(None, args.profile_id, changes, compare=False)
    with c.client(args) as client:
        # The record's current values where they can be had (the cache, or GET on v2.1): unchanged ones are not sent.
        plan = corrections.prepare(client, args.profile_id, changes)
        if plan.nothing_to_send:
            c.out(f"Nothing to correct for {plan.profile_id}: the record already has these values.")
            return c.EXIT_OK
        outcome = corrections.send(client, plan) if not args.dry_run else None
    shown = plan.to_send if outcome is None else outcome.sent
    c.out(
        f"Dry run — nothing sent. The correction for {plan.profile_id} would send:"
        if outcome is None
        else f"Correction sent for {plan.profile_id}:"
    )
    for name, value in shown.items():
        old = plan.before.get(name) if plan.before is not None else None
        c.out(f"  {name}: {old!r} → {value!r}" if old is not None else f"  {name} = {value!r}")
    if plan.unchanged:
        c.out(f"Unchanged (the record already has these values): {', '.join(plan.unchanged)}.")
    elif plan.before is None:
        verb = "would be sent" if outcome is None else "were sent"
        c.out(f"The record's current values are not known here, so the fields {verb} as given.")
    return c.EXIT_OK
