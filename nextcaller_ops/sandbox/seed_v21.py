"""What v2.1 says about the same people: line types, spoofing, social links, demographics, fraud levels.

The store keeps v2's records (the seed's, with corrections applied); v2.1's
answer is built from each one here, deterministically from the record's id, so
a sandbox database made before v2.1 existed serves v2.1 too.  Jerry Seinfeld
gets the values Next Caller's own v2.1 client tests show; the Rivera household
has one spoofed record, so a fraud check has something to find.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..api.models import DEMOGRAPHIC_FIELDS
from .seed import SEINFELD, record_id

__all__ = ["v21_record", "fraud_level", "LINE_TYPES"]

LINE_TYPES = ("Mobile", "LAN", "VoIP")
_LANDLINE_CARRIERS = ("VERIZON NEW YORK, INC.", "Comcast")
_VOIP_CARRIERS = ("Google Voice",)
_AGES = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
_GENDERS = ("Male", "Female")
_INCOMES = ("Under 20k", "20k-50k", "50k-75k", "75k-100k", "100k-150k", "150k+")
_MARITAL = ("Single", "Married")
_YES_NO = ("No", "Yes")
_HOMES = ("Rent", "Own")
_VALUES = ("100k-200k", "200k-350k", "350k-500k", "500k-1mm", "1mm+")
_OCCUPATIONS = ("White Collar Worker", "Blue Collar Worker", "Professional", "Retired", "Student", "Self Employed")
_EDUCATION = ("Completed High School", "Completed College", "Completed Graduate School", "Attended Vocational")

# Next Caller's own client tests show these for the document's record.
_SEINFELD_V21: dict[str, Any] = {
    "line_type": "LAN",
    "spoof": "false",
    "social_links": [
        {"followers": 1, "type": "twitter", "url": "https://twitter.com/nextcaller"},
        {"type": "facebook", "url": "https://www.facebook.com/nextcaller"},
        {"type": "linkedin", "url": "https://www.linkedin.com/company/next-caller"},
    ],
    "age": "45-54",
    "gender": "Male",
    "household_income": "50k-75k",
    "marital_status": "Single",
    "presence_of_children": "No",
    "home_owner_status": "Rent",
    "market_value": "350k-500k",
    "length_of_residence": "12 Years",
    "high_net_worth": "No",
    "occupation": "Entertainer",
    "education": "Completed College",
}
_SPOOFED_IDS = frozenset({record_id("household:sam")})


def _hash(seed: str) -> int:
    return int(hashlib.sha256(f"v21:{seed}".encode()).hexdigest(), 16)


def _extras(record: dict[str, Any]) -> dict[str, Any]:
    rid = str(record.get("id", ""))
    if rid == SEINFELD["id"]:
        return _SEINFELD_V21
    h = _hash(rid)

    def pick(options: tuple, shift: int) -> Any:
        return options[(h >> shift) % len(options)]

    carrier = str(record.get("carrier", ""))
    line_type = "LAN" if carrier in _LANDLINE_CARRIERS else "VoIP" if carrier in _VOIP_CARRIERS else "Mobile"
    spoof = "true" if rid in _SPOOFED_IDS else ("unknown" if (h >> 4) % 25 == 0 else "false")
    extras: dict[str, Any] = {"line_type": line_type, "spoof": spoof}
    first, last = str(record.get("first_name", "")).lower(), str(record.get("last_name", "")).lower()
    if (h >> 8) % 3 == 0 and first and last:
        extras["social_links"] = [{"type": "linkedin", "url": f"https://www.linkedin.com/in/{first}-{last}"}]
    values = (
        pick(_AGES, 12),
        pick(_GENDERS, 16),
        pick(_INCOMES, 20),
        pick(_MARITAL, 24),
        pick(_YES_NO, 28),
        pick(_HOMES, 32),
        pick(_VALUES, 36),
        f"{(h >> 40) % 25 + 1} Years",
        "Yes" if (h >> 48) % 10 == 0 else "No",
        pick(_OCCUPATIONS, 52),
        pick(_EDUCATION, 56),
    )
    extras.update(zip(DEMOGRAPHIC_FIELDS, values, strict=True))
    return extras


def v21_record(record: dict[str, Any]) -> dict[str, Any]:
    """The v2.1 answer for a stored (v2-shaped) record.

    As Next Caller's v2.1 clients show it: each phone entry carries ``carrier``
    and ``line_type``; ``spoof`` follows ``fraud_threat``; ``social_links``
    (when there are any) and the demographics follow ``email``.
    """
    extras = _extras(record)
    carrier = record.get("carrier", "")
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "carrier":
            continue  # v2.1 names the carrier per phone number
        if key == "phone":
            value = [{**p, "carrier": carrier, "line_type": extras["line_type"]} for p in value]
        out[key] = value
        if key == "fraud_threat":
            out["spoof"] = extras["spoof"]
        if key == "email":
            if extras.get("social_links"):
                out["social_links"] = [dict(link) for link in extras["social_links"]]
            out.update({k: extras[k] for k in DEMOGRAPHIC_FIELDS})
    out.setdefault("spoof", extras["spoof"])
    return out


_RANK = {"low": 0, "medium": 1, "high": 2}


def fraud_level(phone: str, records: list[dict[str, Any]]) -> dict[str, str]:
    """``GET fraud/?phone=``: the worst threat of the number's records; spoofed if any record is.

    A number with no record still gets an answer (the API assesses any number),
    ``spoofed`` ``"unknown"`` and a risk derived from the number.
    """
    if not records:
        return {"spoofed": "unknown", "fraud_risk": ("low", "low", "medium", "high")[_hash(phone) % 4]}
    spoofs = [_extras(r)["spoof"] for r in records]
    spoofed = "true" if "true" in spoofs else ("false" if "false" in spoofs else "unknown")
    risk = max((str(r.get("fraud_threat") or "low").lower() for r in records), key=lambda t: _RANK.get(t, 0))
    return {"spoofed": spoofed, "fraud_risk": risk}
