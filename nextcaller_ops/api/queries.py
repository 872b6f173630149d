"""What v2.1 may be asked besides a number: an email address, or a name and an address.

>>> q = name_address_query({"first_name": "Jerry", "last_name": "Seinfeld",
...                         "address": "129 West 81st Street", "zip_code": "10024"})
>>> q.params()["zip_code"]
'10024'

The rules are Next Caller's own clients': first name, last name and street are
required; a ZIP code is 5 digits; a ZIP code or a city and a state must be
given; no other fields.  The client refuses a query that breaks one before any
request (a :class:`~nextcaller_ops.errors.UsageError` naming every problem);
the sandbox checks the same rules with the same function and answers 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .text import control_problem, refuse_control, show_invalid

__all__ = [
    "NAME_ADDRESS_FIELDS",
    "NameAddressQuery",
    "name_address_problems",
    "name_address_query",
    "split_name",
    "check_email",
    "NO_ZIP_NOR_CITY_STATE",
    "mask_email",
]

NAME_ADDRESS_FIELDS = ("first_name", "last_name", "address", "zip_code", "city", "state")
_ZIP_RE = re.compile(r"^\d{5}$")
# Enough to refuse what is plainly not an address (no @, spaces, no dot in the domain); the API decides the rest.
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
_MAX_FIELD = 200
NO_ZIP_NOR_CITY_STATE = "give a 5-digit ZIP code, or a city and a state"


@dataclass(frozen=True)
class NameAddressQuery:
    first_name: str
    last_name: str
    address: str  # the street line
    zip_code: str = ""
    city: str = ""
    state: str = ""

    def params(self) -> dict[str, str]:
        """The query string's fields, in the order the clients send them (empty ones left out)."""
        return {k: v for k in NAME_ADDRESS_FIELDS if (v := getattr(self, k))}

    @property
    def cache_key(self) -> str:
        return "name:" + "|".join(" ".join(getattr(self, k).casefold().split()) for k in NAME_ADDRESS_FIELDS)

    def describe(self) -> str:
        """In words, for a "No record" sentence: ``Jerry Seinfeld, 129 West 81st Street, 10024``."""
        place = self.zip_code or ", ".join(p for p in (self.city, self.state) if p)
        return ", ".join(p for p in (f"{self.first_name} {self.last_name}", self.address, place) if p)


def name_address_problems(data: Mapping[str, Any]) -> dict[str, str]:
    """Field -> what is wrong with it; empty when the query may be sent."""
    problems: dict[str, str] = {}
    for key in data:
        if key not in NAME_ADDRESS_FIELDS:
            problems[show_invalid(str(key))] = "unknown field"  # shown escaped: it is someone's text
    values = {k: " ".join(str(data.get(k) or "").split()) for k in NAME_ADDRESS_FIELDS}
    for key in ("first_name", "last_name", "address"):
        if not values[key]:
            problems[key] = "required"
    for key, value in values.items():
        if len(value) > _MAX_FIELD:
            problems[key] = f"longer than {_MAX_FIELD} characters"
    if values["zip_code"] and not _ZIP_RE.match(values["zip_code"]):
        problems["zip_code"] = "must be 5 digits"
    if not values["zip_code"] and not (values["city"] and values["state"]):
        problems["zip_code"] = NO_ZIP_NOR_CITY_STATE
    for key in NAME_ADDRESS_FIELDS:  # before the whitespace is folded: a tab or newline is refused too
        problem = control_problem(str(data.get(key) or ""))
        if problem:
            problems[key] = problem
    return problems


def name_address_query(data: Mapping[str, Any]) -> NameAddressQuery:
    """A checked query, or a :class:`UsageError` naming every problem (nothing is sent)."""
    problems = name_address_problems(data)
    if problems:
        listed = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise UsageError(
            f"not a name-and-address query ({listed})",
            hint="give a first and last name, the street, and a 5-digit ZIP code or a city and a state",
        )
    clean = {k: " ".join(str(data.get(k) or "").split()) for k in NAME_ADDRESS_FIELDS}
    clean["state"] = clean["state"].upper() if len(clean["state"]) == 2 else clean["state"]
    return NameAddressQuery(**clean)


def split_name(full: str) -> tuple[str, str]:
    """``"Jerry Seinfeld"`` -> ``("Jerry", "Seinfeld")``; ``"Seinfeld, Jerry"`` too.

    Without a comma the last word is the last name (``"Mary Ann Smith"`` ->
    ``("Mary Ann", "Smith")``); write ``"de la Cruz, Juan"`` when it is not.
    """
    text = " ".join(refuse_control(full or "", "the name").split())
    if "," in text:
        last, _, first = (p.strip() for p in text.partition(","))
    else:
        first, _, last = text.rpartition(" ")
    if not first or not last:
        raise UsageError(
            f"{text[:60]!r} is not a first and a last name", hint='give both, e.g. --name "Jerry Seinfeld"'
        )
    return first, last


def check_email(email: str) -> str:
    """The address, stripped, or a :class:`UsageError` before any request."""
    text = refuse_control((email or "").strip(), "the email address")
    if not _EMAIL_RE.match(text):
        raise UsageError(
            f"{mask_email(text) or 'nothing'!r} is not an email address",
            hint="give a whole address, e.g. jerry@example.com",
        )
    return text


def mask_email(email: str) -> str:
    """``jerry@example.com`` -> ``j•••@example.com`` (for logs and refusals)."""
    if not email or "@" not in email:
        return (email[:1] + "•••") if email else ""
    user, _, domain = email.partition("@")
    return f"{user[:1]}•••@{domain[:60]}"
