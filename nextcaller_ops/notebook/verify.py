"""``%nextcaller_verify PHONE --name N --zip Z [--email E] [--street S]``: does the caller match the record?

The body of the magic (``magics.py`` only registers it): one lookup (the cache first),
then the comparison every surface shares (:func:`nextcaller_ops.api.verify.verify`).
The result shows match / partial / no match per field and the overall verdict; nothing
typed is shown back or kept.
"""

from __future__ import annotations

import argparse
import html
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics

from ..api.phone import parse
from ..api.render import format_number
from ..api.verify import InvalidClaim, Verification, verify
from ..errors import InvalidPhoneError
from . import _args

__all__ = ["VERIFY", "VerifyResult", "verify_line"]

VERIFY = _args._with(
    _args.argument("phone", nargs="+", metavar="PHONE", help="the caller's number, in any common US format"),
    _args.argument("--name", required=True, help="the name the caller gives (quote it: --name 'Jerry Seinfeld')"),
    _args.argument("--zip", dest="zip_code", required=True, metavar="ZIP", help="the ZIP they give (5 digits)"),
    _args.argument("--email", help="the email they give"),
    _args.argument("--street", help="the street address they give"),
    _args._REFRESH,
    _args._PROFILE,
    _args._HELP,
)


class VerifyResult:
    """What ``%nextcaller_verify`` returns: ``.verification`` (verdicts), ``.full_match``, ``.phone``."""

    def __init__(self, phone: str, verification: Verification, found: bool):
        self.phone = phone
        self.verification = verification
        self.found = found

    @property
    def full_match(self) -> bool:
        return self.verification.full_match

    def as_dict(self) -> dict[str, str]:
        return self.verification.as_dict()

    def __repr__(self) -> str:
        head = f"Verifying {format_number(self.phone)}" + ("" if self.found else "  (no record for this number)")
        lines = [f"  {f.field:<8}{f.verdict}" for f in self.verification.fields]
        return "\n".join([head, *lines, f"  {'overall':<8}{self.verification.overall}"])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(f.field)}</td><td>{html.escape(f.verdict)}</td></tr>"
            for f in self.verification.fields
        )
        overall = html.escape(self.verification.overall)
        return (
            f"<table><caption>Verifying {html.escape(format_number(self.phone))}</caption>{rows}"
            f"<tr><th>overall</th><th>{overall}</th></tr></table>"
        )


def verify_line(magics: Magics, args: argparse.Namespace) -> Any:
    raw = " ".join(args.phone)
    try:
        phone = parse(raw)
    except InvalidPhoneError as exc:
        raise UsageError(f"%nextcaller_verify: {exc}") from None
    claims = {"name": args.name, "zip_code": args.zip_code, "email": args.email, "street": args.street}
    try:
        verify([], **claims)  # a malformed claim is refused before any request
    except InvalidClaim as exc:
        raise UsageError(f"%nextcaller_verify: --{exc}") from None
    except ValueError as exc:
        raise UsageError(f"%nextcaller_verify: {exc}") from None
    result = magics._client(args.profile).lookup(phone, refresh=args.refresh)  # type: ignore[attr-defined]
    return VerifyResult(phone.number, verify(result.profiles, **claims), bool(result.profiles))
