"""``%nextcaller NUMBER`` and ``%nextcaller_update ID field=value``: one caller, one correction."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from .. import corrections
from ..api.correction_fields import parse_assignments
from ..api.models import parse_records_json, parse_xml_document
from ..api.phone import PhoneInput, parse
from ..api.render import own_input_problem
from ..errors import InvalidPhoneError
from . import v21
from ._args import CELL_ONLY
from ._context import Magics
from .results import CallerResult, CallerResults, CorrectionResult

__all__ = ["lookup_line", "update"]

_DEFAULTS = {
    "display": False,
    "rows": "line",
    "to": None,
    "concurrency": None,
    "resume": False,
    "max_requests": None,
    "dry_run": False,
}


def lookup_line(magics: Magics, args: argparse.Namespace) -> Any:
    cell_only = [name for name in CELL_ONLY if getattr(args, name) != _DEFAULTS[name]]
    if cell_only:
        flag = "--" + cell_only[0]
        raise UsageError(f"%nextcaller: {flag} is for a cell of numbers (%%nextcaller {flag} …), not for one number")
    if v21.asks_v21(args):  # --email ADDRESS, --fraud NUMBER (API v2.1)
        return v21.line(magics, args)
    if not args.phone:
        raise UsageError("%nextcaller: give a number, e.g. %nextcaller 212-555-8383 (%nextcaller --help shows more)")
    several = _several(args.phone)
    if several is not None:  # `%nextcaller 2125558383 3125550142`: the usage says [phone ...]
        if args.format == "xml":
            raise UsageError("%nextcaller --format xml takes one number (the API's XML is one document per number)")
        results = CallerResults(_one(magics, args, phone) for phone in several)
        magics._store(args.output, results)
        return results
    raw = " ".join(args.phone)  # `(212) 555-8383` typed without quotes is one number in three words
    try:
        phone = parse(raw)
    except InvalidPhoneError as exc:
        raise UsageError(own_input_problem(raw, exc)) from None
    result = _one(magics, args, phone)
    magics._store(args.output, result)
    return result


def _several(words: list[str]) -> list[PhoneInput] | None:
    """The numbers when every word is a whole number on its own (two or more of them); else None."""
    if len(words) < 2:
        return None
    try:
        return [parse(word) for word in words]
    except InvalidPhoneError:
        return None


def _one(magics: Magics, args: argparse.Namespace, phone: PhoneInput) -> CallerResult:
    client = magics._client(args.profile)
    fmt = args.format or "card"
    if fmt == "xml":
        raw = client.lookup_raw(phone, "xml")
        profiles = tuple(parse_records_json(parse_xml_document(raw)))
        result = CallerResult(phone.number, profiles, extension=phone.extension, fmt="xml", raw=raw)
    else:
        found = client.lookup(phone, refresh=args.refresh)
        result = CallerResult(found.phone, found.profiles, extension=found.extension, cached=found.cached, fmt=fmt)
    return result


def update(magics: Magics, args: argparse.Namespace) -> CorrectionResult:
    changes = parse_assignments(args.changes)
    corrections.prepare(None, args.profile_id, changes, compare=False)  # refuse bad input before any request
    client = magics._client(args.profile)
    plan = corrections.prepare(client, args.profile_id, changes)
    if args.dry_run:
        return CorrectionResult(corrections.CorrectionOutcome(plan), dry_run=True)
    return CorrectionResult(corrections.send(client, plan))
