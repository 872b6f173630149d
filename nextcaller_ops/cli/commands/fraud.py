"""``nextcaller-ops fraud PHONE...``: is the number spoofed, how risky is the call (API v2.1)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import TYPE_CHECKING

from ...errors import NextCallerError, UsageError
from .. import _common as c

if TYPE_CHECKING:
    from ...api.fraud import FraudLevel

_COLUMNS = ("phone", "spoofed", "fraud_risk", "error")


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "fraud level of phone numbers: spoofed? risk low/medium/high (API v2.1)"
    p = sub.add_parser("fraud", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("phones", nargs="+", metavar="PHONE", help="numbers in any common US format")
    p.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format (default: text)")
    p.add_argument("--refresh", action="store_true", help="bypass the cache")
    p.add_argument("--profile", help="credentials profile")


def run(args: argparse.Namespace) -> int:

    parsed = c.parse_phones(args.phones)
    if parsed is None:
        return c.EXIT_USAGE
    if not parsed:  # pragma: no cover - argparse wants one
        raise UsageError("no phone number given")
    status = c.EXIT_OK
    writer = csv.DictWriter(sys.stdout, fieldnames=_COLUMNS) if args.format == "csv" else None
    if writer:
        writer.writeheader()
    with c.client(args) as client:
        for phone in parsed:
            try:
                level = client.fraud_level(phone, refresh=args.refresh)
            except NextCallerError as exc:
                if writer is None or isinstance(exc, UsageError):
                    raise  # one line and the exit code, as for any other error
                writer.writerow({"phone": phone.number, "spoofed": "", "fraud_risk": "", "error": str(exc)})
                c.err(f"error: {c.error_line(exc)}")
                status = c.EXIT_API
                continue
            doc = {"phone": phone.number, **level.to_api()}
            if writer:
                writer.writerow({**dict.fromkeys(_COLUMNS, ""), **{k: doc.get(k, "") for k in _COLUMNS}})
            elif args.format == "json":
                c.out(c.json_text(doc, indent=2 if len(parsed) == 1 else None))
            else:
                c.out(_text(phone.number, level))
    return status


def _text(number: str, level: FraudLevel) -> str:
    from ...api.render import format_number, risk_label, spoof_label

    return f"{format_number(number)}  fraud risk {risk_label(level.fraud_risk)} · spoofed: {spoof_label(level.spoofed)}"
