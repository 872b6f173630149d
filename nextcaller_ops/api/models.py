"""Profiles as the API documents them, parsed from JSON or XML (:mod:`.xmldoc`).

The API sends booleans as the strings ``"true"``/``"false"``; here they are
``bool``.  Both record shapes are read: v2's, and v2.1's, whose phone entries
carry ``carrier`` and ``line_type`` and whose record adds ``spoof``,
``social_links``, an ``age`` range and other demographics — optional attributes
here, empty on v2.  Fields neither version documents are kept in
``Profile.extra`` and survive a round trip through :meth:`Profile.to_api`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import BadResponseError, UsageError
from .record_parts import Address, PhoneNumber, SocialLink
from .record_parts import as_text as _text
from .xmldoc import parse_xml_document

if TYPE_CHECKING:
    from .fraud import FraudLevel

__all__ = [
    "DEMOGRAPHIC_FIELDS",
    "Address",
    "PhoneNumber",
    "SocialLink",
    "Profile",
    "LookupResult",
    "V21_FLAT_COLUMNS",
    "parse_records_json",
    "parse_xml_document",
    "PROFILE_ID_RE",
    "check_profile_id",
]

PROFILE_ID_RE = re.compile(r"^[0-9a-f]{30}$")


def check_profile_id(profile_id: str) -> str:
    """The id, normalised (stripped, lower case), or a :class:`UsageError` before any request."""
    pid = (profile_id or "").strip().lower()
    if not PROFILE_ID_RE.match(pid):
        raise UsageError(
            f"{profile_id!r} is not a profile id", hint="a profile id is 30 hex characters, from a lookup's `id` field"
        )
    return pid


_BOOL_FIELDS = ("member", "billing_info_on_file")
_LIST_FIELDS = ("phone", "address", "social_links")
# v2.1's scalar additions, as the API writes them (text: "45-54", "Rent", "true"...).
# What v2.1 adds about the person (optional strings; the sandbox seeds them, the tables show them).
DEMOGRAPHIC_FIELDS = (
    "age",
    "gender",
    "household_income",
    "marital_status",
    "presence_of_children",
    "home_owner_status",
    "market_value",
    "length_of_residence",
    "high_net_worth",
    "occupation",
    "education",
)
_V21_SCALARS = ("spoof", *DEMOGRAPHIC_FIELDS)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    return None


def _bool_text(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


@dataclass(frozen=True)
class Profile:
    """One record of the API's ``records`` list."""

    id: str = ""
    first_name: str = ""
    last_name: str = ""
    name: str = ""
    language: str = ""
    fraud_threat: str = ""
    email: str = ""
    member: bool | None = None
    billing_info_on_file: bool | None = None
    carrier: str = ""
    department: str = ""
    phones: tuple[PhoneNumber, ...] = ()
    addresses: tuple[Address, ...] = ()
    # v2.1 (empty on v2): the line type of the first phone (or the record's), spoofing, social links...
    line_type: str = ""
    spoof: str = ""  # "true" / "false" / "unknown", as the API writes it
    social_links: tuple[SocialLink, ...] = ()
    age: str = ""  # a range, e.g. "45-54"
    gender: str = ""
    household_income: str = ""
    marital_status: str = ""
    presence_of_children: str = ""
    home_owner_status: str = ""
    market_value: str = ""
    length_of_residence: str = ""
    high_net_worth: str = ""
    occupation: str = ""
    education: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The record exactly as the API sent it (key order, empty fields, string booleans).
    source: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    _SCALARS = ("id", "first_name", "last_name", "name", "language", "fraud_threat", "email", "carrier", "department")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Profile:
        if not isinstance(data, Mapping):
            raise BadResponseError("a record in the answer is not an object")
        kwargs: dict[str, Any] = {k: _text(data.get(k)) for k in cls._SCALARS}
        for k in _BOOL_FIELDS:
            kwargs[k] = _as_bool(data.get(k))
        kwargs["phones"] = phones = tuple(PhoneNumber.from_api(p) for p in _as_list(data.get("phone")))
        kwargs["addresses"] = tuple(Address.from_api(a) for a in _as_list(data.get("address")))
        for k in _V21_SCALARS:
            kwargs[k] = _text(data.get(k))
        kwargs["social_links"] = tuple(SocialLink.from_api(x) for x in _as_list(data.get("social_links")))
        # v2.1 moves carrier and line type into each phone entry (some answers keep them on the record too).
        first = phones[0] if phones else PhoneNumber("")
        kwargs["carrier"] = kwargs["carrier"] or first.carrier
        kwargs["line_type"] = _text(data.get("line_type")) or first.line_type
        known = set(cls._SCALARS) | set(_BOOL_FIELDS) | set(_LIST_FIELDS) | set(_V21_SCALARS) | {"line_type"}
        kwargs["extra"] = {k: v for k, v in data.items() if k not in known}
        kwargs["source"] = dict(data)
        return cls(**kwargs)

    def to_api(self) -> dict[str, Any]:
        """The record as the API's JSON shows it: as it was sent, when it came from the API."""
        if self.source is not None:
            return dict(self.source)
        out: dict[str, Any] = {k: getattr(self, k) for k in self._SCALARS if getattr(self, k)}
        for k in _BOOL_FIELDS:
            if getattr(self, k) is not None:
                out[k] = _bool_text(getattr(self, k))
        out["phone"] = [p.to_api() for p in self.phones]
        out["address"] = [a.to_api() for a in self.addresses]
        for k in ("line_type", *_V21_SCALARS):
            if getattr(self, k):
                out[k] = getattr(self, k)
        if self.social_links:
            out["social_links"] = [link.to_api() for link in self.social_links]
        out.update(self.extra)
        return out

    @property
    def display_name(self) -> str:
        return self.name or " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name on record)"

    @property
    def phone_numbers(self) -> list[str]:
        return [p.number for p in self.phones if p.number]

    def flat(self) -> dict[str, Any]:
        """One row for a table: scalars, the first address split out, phones joined."""
        first = self.addresses[0] if self.addresses else Address()
        row: dict[str, Any] = {
            "id": self.id,
            "name": self.display_name if (self.name or self.first_name or self.last_name) else "",
            "first_name": self.first_name,
            "last_name": self.last_name,
            "phones": " ".join(self.phone_numbers),
            "carrier": self.carrier,
            "email": self.email,
            "language": self.language,
            "fraud_threat": self.fraud_threat,
            "member": self.member,
            "billing_info_on_file": self.billing_info_on_file,
            "department": self.department,
            "line1": first.line1,
            "line2": first.line2,
            "city": first.city,
            "state": first.state,
            "zip_code": first.zip_code,
            "country": first.country,
        }
        return row

    def flat_v21(self) -> dict[str, Any]:
        """v2.1's columns for a table (empty strings on v2): line type, spoof, age range, social links."""
        return {
            "line_type": self.line_type,
            "spoof": self.spoof,
            "age": self.age,
            "social_links": " ".join(link.url for link in self.social_links if link.url),
        }


FLAT_COLUMNS = tuple(Profile().flat().keys())
V21_FLAT_COLUMNS = tuple(Profile().flat_v21().keys())


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


@dataclass(frozen=True)
class LookupResult:
    """What one lookup found: zero or more profiles for one number."""

    phone: str  # the number asked for ("" for a lookup by email or by name and address)
    profiles: tuple[Profile, ...]
    extension: str | None = None
    cached: bool = False
    query: str = ""  # v2.1: what was asked when it was not a number, in words ("demo@nextcaller.com")
    fraud: FraudLevel | None = None  # v2.1: the number's fraud level, when it was asked for too

    @property
    def found(self) -> bool:
        return bool(self.profiles)

    def to_api(self) -> dict[str, Any]:
        return {"records": [p.to_api() for p in self.profiles]}


# -- documents ------------------------------------------------------------------


def parse_records_json(doc: Any) -> list[Profile]:
    if not isinstance(doc, Mapping) or "records" not in doc:
        raise BadResponseError("the answer has no `records` list")
    records = doc["records"]
    if records is None:
        return []
    if not isinstance(records, list):
        raise BadResponseError("`records` in the answer is not a list")
    return [Profile.from_api(r) for r in records]
