"""What a correction may contain: field names, per-field checks, and the POST body.

``build_correction`` turns ``{"email": ..., "shipping_address1.line1": ...}`` into the
API's nested body, refusing unknown fields and bad values (a :class:`UsageError`
naming each) before any request; ``flatten_correction`` is its inverse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import InvalidPhoneError, UsageError
from ..redact import mask_phones
from .models import Address, Profile
from .phone import parse
from .text import control_problem, text_problem

__all__ = [
    "CORRECTION_FIELDS",
    "ADDRESS_FIELDS",
    "validate_correction_value",
    "parse_assignments",
    "build_correction",
    "flatten_correction",
    "correction_view",
    "diff_correction",
]


ADDRESS_FIELDS = ("line1", "line2", "city", "state", "zip_code")
_SCALAR_CORRECTIONS = ("first_name", "last_name", "email", "phone1", "phone2", "phone3")
_ADDRESS_CORRECTIONS = ("shipping_address1", "shipping_address2")
CORRECTION_FIELDS = _SCALAR_CORRECTIONS + tuple(f"{a}.{f}" for a in _ADDRESS_CORRECTIONS for f in ADDRESS_FIELDS)

_MAX_EMAIL = 254  # RFC 5321's limit for a forward path


def _is_email(value: str) -> bool:
    # Split, don't backtrack: a regex with two greedy runs around "." took seconds on a
    # long value ("a@" + "b." * 16000), and the sandbox validates with this function.
    if len(value) > _MAX_EMAIL or any(c.isspace() for c in value):
        return False
    local, at, domain = value.partition("@")
    host, dot, tld = domain.rpartition(".")
    return bool(local and at and "@" not in domain and host and dot and tld)


def validate_correction_value(name: str, value: str) -> str | None:
    """A sentence saying what is wrong with ``value`` for field ``name``, or None."""
    leaf = name.rsplit(".", 1)[-1]
    # Nothing a terminal acts on (ESC, bidi overrides) and a record that stays writable as JSON and XML.
    problem = control_problem(value) or text_problem(value)
    if problem:
        return problem
    if leaf == "email" and value and not _is_email(value):
        return "not an email address"
    if leaf.startswith("phone") and value:
        try:
            parse(value)
        except InvalidPhoneError as exc:
            return exc.reason
    if leaf == "state" and value and not re.fullmatch(r"[A-Za-z]{2}", value):
        return "use the 2-letter state code, e.g. NY"
    if leaf == "zip_code" and value and not re.fullmatch(r"\d{5}", value):
        return "use the 5-digit ZIP code"
    return None


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["first_name=Clark", "shipping_address1.line1=1 Main St"]`` -> a changes dict (CLI and magics)."""
    changes: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"{mask_phones(pair)!r} is not FIELD=VALUE", hint="e.g. first_name=Clark")
        name, value = pair.split("=", 1)
        changes[name.strip()] = value
    return changes


def build_correction(changes: Mapping[str, Any]) -> dict[str, Any]:
    """``{"first_name": "Clark", "shipping_address1.line1": "..."}`` -> the POST body.

    Unknown fields and invalid values raise :class:`UsageError` naming them; no
    request is made with a body the API would refuse.
    """
    body: dict[str, Any] = {}
    problems: list[str] = []
    for raw_name, value in changes.items():
        name = str(raw_name).strip()
        text = "" if value is None else str(value).strip()
        if name in _ADDRESS_CORRECTIONS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                body.setdefault(name, {})
                nested = build_correction({f"{name}.{sub}": sub_value})
                body[name].update(nested[name])
            continue
        if name not in CORRECTION_FIELDS:
            problems.append(f"unknown field {name!r}")
            continue
        problem = validate_correction_value(name, text)
        if problem:
            problems.append(f"{name}: {problem}")
            continue
        if name.startswith("phone") and text:
            text = parse(text).number
        if name.endswith(".state"):
            text = text.upper()
        if "." in name:
            group, leaf = name.split(".", 1)
            body.setdefault(group, {})[leaf] = text
        else:
            body[name] = text
    if problems:
        # The list of fields helps only when a name was wrong; a bad value's problem says what to give.
        unknown = any(p.startswith("unknown field") for p in problems)
        raise UsageError(
            "correction refused: " + "; ".join(problems),
            hint=(
                "fields you can set: "
                + ", ".join(CORRECTION_FIELDS[:6])
                + ", shipping_address1|2."
                + "{"
                + ",".join(ADDRESS_FIELDS)
                + "}"
            )
            if unknown
            else "",
        )
    if not body:
        raise UsageError("correction refused: no fields given", hint="give at least one FIELD=VALUE")
    return body


def flatten_correction(body: Mapping[str, Any]) -> dict[str, str]:
    """The inverse of :func:`build_correction`: dotted names -> values."""
    flat: dict[str, str] = {}
    for k, v in body.items():
        if isinstance(v, Mapping):
            for sub, sub_v in v.items():
                flat[f"{k}.{sub}"] = sub_v
        else:
            flat[k] = v
    return flat


def correction_view(profile: Profile) -> dict[str, str]:
    """The profile's current values under correction field names."""
    phones = profile.phone_numbers
    view = {"first_name": profile.first_name, "last_name": profile.last_name, "email": profile.email}
    for i in range(3):
        view[f"phone{i + 1}"] = phones[i] if i < len(phones) else ""
    for i, group in enumerate(_ADDRESS_CORRECTIONS):
        addr = profile.addresses[i] if i < len(profile.addresses) else Address()
        for f in ADDRESS_FIELDS:
            view[f"{group}.{f}"] = getattr(addr, f)
    return view


def diff_correction(profile: Profile, proposed: Mapping[str, Any]) -> dict[str, Any]:
    """Only what differs from ``profile``, as a POST body (may be empty)."""
    current = correction_view(profile)
    changed = {k: v for k, v in proposed.items() if ("" if v is None else str(v).strip()) != current.get(k, "")}
    return build_correction(changed) if changed else {}
