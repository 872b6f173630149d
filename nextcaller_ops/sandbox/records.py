"""What a correction does to a record: the sandbox's side of ``POST /v2/users/ID/``.

The client only builds correction bodies (:func:`nextcaller_ops.api.models.build_correction`);
applying one to a stored record is the API's business, so it lives with the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.correction_fields import CORRECTION_FIELDS
from ..api.models import Address

__all__ = ["apply_correction"]

# "shipping_address1", "shipping_address2": the address groups a correction may carry, in order.
_ADDRESS_GROUPS = tuple(dict.fromkeys(name.split(".", 1)[0] for name in CORRECTION_FIELDS if "." in name))


def apply_correction(record: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a POST body to an API-shaped record; returns the updated copy."""
    out = dict(record)
    for k in ("first_name", "last_name", "email"):
        if k in body:
            out[k] = body[k]
    if "first_name" in body or "last_name" in body:
        out["name"] = " ".join(p for p in (out.get("first_name", ""), out.get("last_name", "")) if p)
    phones = [dict(p) for p in out.get("phone", [])]
    for i in range(3):
        key = f"phone{i + 1}"
        if key in body:
            while len(phones) <= i:
                phones.append({"number": ""})
            phones[i]["number"] = body[key]
    out["phone"] = [p for p in phones if p.get("number")]
    addresses = [dict(a) for a in out.get("address", [])]
    for i, group in enumerate(_ADDRESS_GROUPS):
        if group in body:
            while len(addresses) <= i:
                addresses.append(Address(country="USA").to_api())
            addresses[i].update(body[group])
    out["address"] = addresses
    return out
