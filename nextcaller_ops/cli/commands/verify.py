"""``nextcaller-ops verify PHONE --name N --zip Z [--email E] [--street S]``: does the caller match the record?

Looks the number up (the cache first, as ``lookup`` does) and compares each claimed field
with the record (:func:`nextcaller_ops.api.verify.verify`, the comparison the bot and the
notebook use too).  Prints match / partial / no match per field and the overall verdict;
exit 0 on a full match, 1 otherwise (or when the lookup failed), 2 for a malformed number
or ZIP (before any request).  Nothing typed is printed back or kept.
"""

from __future__ import annotations

import argparse

from ...errors import UsageError
from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "verify a caller: compare the name, ZIP, email and street they give with the number's record"
    p = sub.add_parser("verify", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("phone", metavar="PHONE", help="the caller's number, in any common US format")
    p.add_argument("--name", required=True, help="the name the caller gives")
    p.add_argument("--zip", dest="zip_code", required=True, metavar="ZIP", help="the ZIP they give (5 digits)")
    p.add_argument("--email", help="the email they give")
    p.add_argument("--street", help="the street address they give (e.g. '129 W 81st St')")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument("--refresh", action="store_true", help="bypass the cache")
    p.add_argument("--profile", help="credentials profile")


def run(args: argparse.Namespace) -> int:
    from ...api.render import format_number
    from ...api.verify import InvalidClaim, verify

    parsed = c.parse_phones([args.phone])
    if not parsed:
        return c.EXIT_USAGE
    (phone,) = parsed
    claims = {"name": args.name, "zip_code": args.zip_code, "email": args.email, "street": args.street}
    try:
        verify([], **claims)  # a malformed claim (a ZIP that is not 5 digits) is refused before any request
    except InvalidClaim as exc:
        raise UsageError(f"--{exc.field}: {str(exc).split(': ', 1)[1]}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with c.client(args) as client:
        result = client.lookup(phone, refresh=args.refresh)
    verification = verify(result.profiles, **claims)
    if args.format == "json":
        c.out(c.json_text({"phone": phone.number, "found": bool(result.profiles), **verification.as_dict()}))
    else:
        found = "" if result.profiles else "  (no record for this number)"
        c.out(f"Verifying {format_number(phone.number)}{found}")
        for field in verification.fields:
            c.out(f"  {field.field:<8}{field.verdict}")
        c.out(f"  {'overall':<8}{verification.overall}")
    return c.EXIT_OK if verification.full_match else c.EXIT_API
