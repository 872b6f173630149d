"""``lookup --email E`` and ``lookup --name "FIRST LAST" --address LINE (--zip Z | --city C --state S)`` (API v2.1).

:mod:`.lookup` adds these options to its parser and hands such a run here.
The query is checked before any request (the rules of Next Caller's own
clients); on a v2 profile the client refuses with one line saying v2.1 is needed.
"""

from __future__ import annotations

import argparse
import csv
import sys

from ..errors import UsageError
from . import _common as c

__all__ = ["add_arguments", "wanted", "run"]

_ADDRESS_OPTIONS = ("address", "zip", "city", "state")


def add_arguments(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("API v2.1: look up by email, or by name and address")
    group.add_argument("--email", metavar="ADDRESS", help="look up by email address")
    group.add_argument(
        "--name",
        metavar='"FIRST LAST"',
        help='look up by name and address ("Last, First" when the last name has spaces)',
    )
    group.add_argument("--address", metavar="LINE", help="with --name: the street line, e.g. '129 West 81st Street'")
    group.add_argument("--zip", metavar="ZIP", help="with --name: the 5-digit ZIP code (or --city and --state)")
    group.add_argument("--city", metavar="CITY", help="with --name and --state, instead of --zip")
    group.add_argument("--state", metavar="ST", help="with --name and --city, instead of --zip")


def wanted(args: argparse.Namespace) -> bool:
    """True when the run asks by email or by name and address (or gives an address option alone)."""
    return bool(args.email or args.name or any(getattr(args, k) for k in _ADDRESS_OPTIONS))


def _query(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """("email", {"email": ...}) or ("name", {name-and-address fields}); refusals before any request."""
    from ..api.queries import check_email, name_address_query, split_name

    if args.phones or args.file:
        raise UsageError("give numbers (or --file), --email, or --name — one kind of lookup at a time")
    if args.email and (args.name or any(getattr(args, k) for k in _ADDRESS_OPTIONS)):
        raise UsageError("give --email or --name with an address, not both")
    if args.email:
        return "email", {"email": check_email(args.email)}
    if not args.name:
        raise UsageError(
            "--address, --zip, --city and --state go with --name",
            hint='nextcaller-ops lookup --name "Jerry Seinfeld" --address "129 West 81st Street" --zip 10024',
        )
    first, last = split_name(args.name)
    fields = {"first_name": first, "last_name": last, "address": args.address or ""}
    fields.update({k: v for k, v in (("zip_code", args.zip), ("city", args.city), ("state", args.state)) if v})
    name_address_query(fields)  # every problem named at once, nothing sent
    return "name", fields


def run(args: argparse.Namespace) -> int:
    from ..api.render import batch_columns, batch_row, no_record_text, text_cards
    from ..client.fanout import BatchItem

    kind, fields = _query(args)
    fmt = args.format or "text"
    if fmt == "xml":
        raise UsageError("--format xml is for phone numbers", hint="use text, json or csv with --email or --name")
    with c.client(args) as client:
        if kind == "email":
            result = client.lookup_email(fields["email"], refresh=args.refresh)
        else:
            result = client.lookup_name_address(fields, refresh=args.refresh)
        columns = batch_columns(client.api_version)
    if fmt == "json":
        c.out(c.json_text(result.to_api(), indent=2))
        if not result.found:
            c.err(no_record_text(result.query))
    elif fmt == "csv":
        item = BatchItem(0, result.query, None, "found" if result.found else "not_found", result=result)
        writer = csv.DictWriter(sys.stdout, fieldnames=columns)
        writer.writeheader()
        for profile in result.profiles or (None,):
            writer.writerow(batch_row(item, profile, columns))
    else:
        c.out(text_cards(result.profiles, result.query))
    return c.EXIT_OK if result.found else c.EXIT_API
