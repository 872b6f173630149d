"""``nextcaller-ops profile ID``: one profile by its id (API v2.1's ``GET users/ID/``)."""

from __future__ import annotations

import argparse

from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "show one profile by its id, from a lookup's `Record` line (API v2.1)"
    p = sub.add_parser("profile", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("profile_id", metavar="ID", help="30 hex characters")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--profile", help="credentials profile")


def run(args: argparse.Namespace) -> int:
    from ...api.models import check_profile_id
    from ...api.render import text_card

    pid = check_profile_id(args.profile_id)  # a malformed id: exit 2, nothing sent
    with c.client(args) as client:
        profile = client.get_profile(pid)  # on v2: one line saying v2.1 is needed, exit 2
    if args.format == "json":
        c.out(c.json_text(profile.to_api(), indent=2))
    else:
        c.out(text_card(profile))
    return c.EXIT_OK
