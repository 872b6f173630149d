"""API v2.1 in a notebook: ``%nextcaller --email E``, ``%nextcaller --fraud PHONE``, and the same in a cell.

* ``%nextcaller --email jerry@example.com`` — the cards of the address's records;
* ``%nextcaller --fraud 212-555-8383`` — the number's fraud level, as a badge;
* ``%%nextcaller --email`` — one address per line -> a table, as for numbers;
* ``%%nextcaller --fraud`` — numbers, with ``spoofed`` and ``fraud_risk`` columns.

On a v2 profile each is one line saying v2.1 is needed, and no request is made.
"""

from __future__ import annotations

import argparse
import html
from typing import Any

from IPython.core.error import UsageError

from ..api.fraud import FraudLevel
from ..api.models import LookupResult
from ..api.phone import parse
from ..api.queries import check_email
from ..api.render import (
    FONT_CSS,
    THREAT_COLOURS,
    THREAT_TEXT_COLOURS,
    format_number,
    no_record_text,
    risk_label,
    spoof_label,
)
from ..batch.run import Question, email_lookups, phone_and_fraud_lookups
from ._context import Magics
from .results import CallerResult

__all__ = ["asks_v21", "line", "batch_question", "EmailResult", "FraudResult"]


def asks_v21(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "email", None) or getattr(args, "fraud", False))


class EmailResult(CallerResult):
    """``%nextcaller --email``: the address's records as cards (``r.email``, ``r.profiles``, ``r.document``)."""

    def __init__(self, email: str, result: LookupResult, fmt: str = "card"):
        super().__init__("", result.profiles, cached=result.cached, fmt=fmt)
        self.email = email

    def __repr__(self) -> str:
        if self.format == "card" and not self.found:
            return no_record_text(self.email)
        return super().__repr__()

    def _repr_html_(self) -> str | None:
        if self.format == "card" and not self.found:
            return f'<p style="{FONT_CSS}">{html.escape(no_record_text(self.email))}</p>'
        return super()._repr_html_()


class FraudResult:
    """``%nextcaller --fraud``: ``r.spoofed``, ``r.fraud_risk``, ``r.document`` (the API's), shown as a badge."""

    def __init__(self, level: FraudLevel):
        self.level = level
        self.phone = level.phone
        self.spoofed = level.spoofed
        self.fraud_risk = level.fraud_risk
        self.cached = level.cached

    @property
    def document(self) -> dict[str, Any]:
        return self.level.to_api()

    def __repr__(self) -> str:
        return (
            f"{format_number(self.phone)}  fraud risk {risk_label(self.fraud_risk)} · "
            f"spoofed: {spoof_label(self.spoofed)}"
        )

    def _repr_html_(self) -> str:
        e = html.escape
        level = self.fraud_risk
        background = THREAT_COLOURS.get(level, "#616161")
        colour = THREAT_TEXT_COLOURS.get(level, "#ffffff")
        badge = (
            f'<span class="nc-threat nc-threat-{e(level or "unknown")}" style="background:{background};'
            f'color:{colour};border-radius:4px;padding:1px 8px">{e(level or "unknown")}</span>'
        )
        return (
            f'<div class="nextcaller-fraud" style="{FONT_CSS}"><b>{e(format_number(self.phone))}</b> — '
            f"fraud risk {badge} · spoofed: {e(spoof_label(self.spoofed))}</div>"
        )


def line(magics: Magics, args: argparse.Namespace) -> Any:
    """``%nextcaller --email ADDRESS`` or ``%nextcaller --fraud NUMBER``."""
    if args.email and args.fraud:
        raise UsageError("%nextcaller: --fraud is for a number, --email for an address — one at a time")
    if args.email is True:
        raise UsageError("%nextcaller --email: give the address, e.g. %nextcaller --email jerry@example.com")
    if args.email and args.phone:
        raise UsageError("%nextcaller: give a number or --email ADDRESS, not both")
    if args.format == "xml" or (args.fraud and args.format):
        raise UsageError(f"%nextcaller: --format {args.format} is for a number's lookup")
    client = magics._client(args.profile)
    if args.email:
        email = check_email(args.email)  # refused before any request
        result: Any = EmailResult(email, client.lookup_email(email, refresh=args.refresh), args.format or "card")
    else:
        if not args.phone:
            raise UsageError("%nextcaller --fraud: give a number, e.g. %nextcaller --fraud 212-555-8383")
        result = FraudResult(client.fraud_level(parse(" ".join(args.phone)), refresh=args.refresh))
    magics._store(args.output, result)
    return result


def batch_question(client: Any, args: argparse.Namespace) -> Question | None:
    """What ``%%nextcaller --email`` / ``--fraud`` asks of each line (None: a phone lookup); refused before any request."""
    if isinstance(args.email, str):
        raise UsageError(f"%%nextcaller --email: the cell holds the addresses, one per line (not {args.email!r})")
    if args.email and args.fraud:
        raise UsageError("%%nextcaller: --fraud is for numbers, --email for addresses — one at a time")
    if args.email:
        return email_lookups(client)  # NeedsNewerAPIError on v2
    if args.fraud:
        return phone_and_fraud_lookups(client)
    return None
