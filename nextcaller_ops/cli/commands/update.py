"""``nextcaller-ops update PROFILE_ID --set FIELD=VALUE ...``: a correction, only the fields given."""

from __future__ import annotations

import argparse

from ...errors import UsageError
from . import _common as c


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
    p.add_argument("--profile", help="credentials profile")


def run(args: argparse.Namespace) -> int:
    from ... import corrections
    from ...api.correction_fields import parse_assignments

    if not args.set:
        raise UsageError("nothing to change", hint="add --set FIELD=VALUE (e.g. --set first_name=Clark)")
    # Refuse a bad id or field before touching credentials or the network.
    plan = corrections.prepare(None, args.profile_id, parse_assignments(args.set), compare=False)
    with c.client(args) as client:
        outcome = corrections.send(client, plan)
    c.out(f"Correction sent for {outcome.profile_id}:")
    for name, value in outcome.sent.items():
        c.out(f"  {name} = {value!r}")
    return c.EXIT_OK
