"""Profiles as the API documents them, parsed from JSON or XML.

The API sends booleans as the strings ``"true"``/``"false"``; here they are
``bool``.  Fields this version does not know (later API versions add age,
social links, line type...) are kept in ``Profile.extra`` and survive a round
trip through :meth:`Profile.to_api`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET

from .errors import BadResponseError, UsageError

__all__ = [
    "Address",
    "PhoneNumber",
    "Profile",
    "LookupResult",
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
_LIST_FIELDS = ("phone", "address")


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


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Any) -> PhoneNumber:
        if not isinstance(data, Mapping):
            return cls(number=_text(data))
        rest = {k: v for k, v in data.items() if k != "number"}
        return cls(number=_text(data.get("number")), extra=rest)

    def to_api(self) -> dict[str, Any]:
        return {"number": self.number, **self.extra}


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    extended_zip: str = ""
    country: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    _NAMES = ("line1", "line2", "city", "state", "zip_code", "extended_zip", "country")

    @classmethod
    def from_api(cls, data: Any) -> Address:
        if not isinstance(data, Mapping):
            return cls(line1=_text(data))
        known = {k: _text(data.get(k)) for k in cls._NAMES}
        rest = {k: v for k, v in data.items() if k not in cls._NAMES}
        return cls(**known, extra=rest)

    def to_api(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in self._NAMES}, **self.extra}

    @property
    def one_line(self) -> str:
        zip_text = self.zip_code + (f"-{self.extended_zip}" if self.extended_zip else "")
        city = ", ".join(p for p in (self.city, " ".join(p for p in (self.state, zip_text) if p)) if p)
        return ", ".join(p for p in (self.line1, self.line2, city) if p)


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
        kwargs["phones"] = tuple(PhoneNumber.from_api(p) for p in _as_list(data.get("phone")))
        kwargs["addresses"] = tuple(Address.from_api(a) for a in _as_list(data.get("address")))
        known = set(cls._SCALARS) | set(_BOOL_FIELDS) | set(_LIST_FIELDS)
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


FLAT_COLUMNS = tuple(Profile().flat().keys())


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


@dataclass(frozen=True)
class LookupResult:
    """What one lookup found: zero or more profiles for one number."""

    phone: str
    profiles: tuple[Profile, ...]
    extension: str | None = None
    cached: bool = False

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


def _element_to_value(elem: Any) -> Any:
    children = list(elem)
    if not children:
        if elem.tag in _LIST_FIELDS or elem.tag == "records":
            return []
        return (elem.text or "").strip()
    if all(c.tag == "object" for c in children):
        return [_element_to_value(c) for c in children]
    out: dict[str, Any] = {}
    for child in children:
        out[child.tag] = _element_to_value(child)
    return out


def parse_xml_document(text: str | bytes) -> dict[str, Any]:
    """``<response>...</response>`` -> the same dict shape as the JSON answer.

    Parsed with defusedxml: entity expansion, external entities and DTDs are
    refused, so a hostile or broken proxy cannot blow up memory.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise BadResponseError(f"the XML answer was refused as unsafe ({type(exc).__name__})") from None
    except ParseError as exc:
        raise BadResponseError(f"the XML answer is not well-formed ({exc})") from None
    if root.tag != "response":
        raise BadResponseError(f"the XML answer's root is <{root.tag}>, not <response>")
    value = _element_to_value(root)
    if not isinstance(value, dict):
        raise BadResponseError("the XML answer is empty")
    return value
