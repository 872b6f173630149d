"""The correction modal: a prefilled form, and reading back only what the person changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from nextcaller_ops.api.correction_fields import correction_view
from nextcaller_ops.api.models import Profile

from .blocks import plain
from .messages import esc

__all__ = [
    "CORRECTION_CALLBACK",
    "VERIFY_CALLBACK",
    "VERIFY_FIELDS",
    "verify_modal",
    "verify_values",
    "MODAL_FIELDS",
    "correction_modal",
    "changed_values",
    "submitted_values",
    "field_block_id",
    "block_id_field",
    "fingerprint",
    "shown_values",
]

CORRECTION_CALLBACK = "nc_correction"

MODAL_FIELDS: tuple[tuple[str, str, int], ...] = (
    ("first_name", "First name", 100),
    ("last_name", "Last name", 100),
    ("email", "Email", 254),
    ("phone1", "Phone 1", 20),
    ("phone2", "Phone 2", 20),
    ("phone3", "Phone 3", 20),
    ("shipping_address1.line1", "Street", 200),
    ("shipping_address1.line2", "Apt / suite", 100),
    ("shipping_address1.city", "City", 100),
    ("shipping_address1.state", "State (2 letters)", 2),
    ("shipping_address1.zip_code", "ZIP (5 digits)", 5),
)


def field_block_id(name: str) -> str:
    return "f_" + name.replace(".", "__")


def block_id_field(block_id: str) -> str:
    return block_id[2:].replace("__", ".")


def fingerprint(value: str) -> str:
    """A short hash of what a field showed: enough to tell "unchanged" whatever the record's sizes."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def shown_values(profile: Profile) -> dict[str, str]:
    """What each input of the modal is prefilled with: the record's value cut to the input's length,
    as it comes back stripped when the person leaves it alone."""
    current = correction_view(profile)
    return {name: (current.get(name) or "")[:max_len].strip() for name, _, max_len in MODAL_FIELDS}


def correction_modal(profile: Profile, phone: str, channel_id: str | None) -> dict[str, Any]:
    """The prefilled form; ``private_metadata`` keeps a fingerprint of every prefilled value.

    Fingerprints (not the values) because a record's fields may be long: the
    metadata always fits in Slack's 3,000 characters, and a value cut to the
    input's ``max_length`` that comes back untouched is not a change.
    """
    shown = shown_values(profile)
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "block_id": "nc_modal_ctx",
            "elements": [
                {"type": "mrkdwn", "text": f"Record `{esc(profile.id)}` · only the fields you change are sent"}
            ],
        }
    ]
    for name, label, max_len in MODAL_FIELDS:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_len}
        if shown[name]:
            element["initial_value"] = shown[name]
        blocks.append(
            {
                "type": "input",
                "block_id": field_block_id(name),
                "optional": True,
                "label": plain(label),
                "element": element,
            }
        )
    metadata = json.dumps(
        {
            "id": profile.id,
            "phone": phone,
            "channel": channel_id,
            "fp": {name: fingerprint(value) for name, value in shown.items() if value},
        },
        separators=(",", ":"),
    )
    return {
        "type": "modal",
        "callback_id": CORRECTION_CALLBACK,
        "title": plain("Suggest correction", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def changed_values(meta: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str] | None:
    """The fields the person changed (their new values); None when the form can't tell (damaged)."""
    fingerprints = meta.get("fp")
    if not isinstance(fingerprints, dict):
        return None
    return {
        name: value
        for name, value in values.items()
        if (fingerprint(value) if value else None) != fingerprints.get(name)
    }


def submitted_values(view: Mapping[str, Any]) -> dict[str, str]:
    """``{"first_name": "...", "shipping_address1.city": "..."}`` from a view_submission."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state", {}).get("values", {}) or {}).items():
        if not block_id.startswith("f_"):
            continue
        value = (actions.get("value") or {}).get("value")
        values[block_id_field(block_id)] = (value or "").strip()
    return values


# -- Verify caller (issue 26): what the caller claims, compared with the record on submit -----------

VERIFY_CALLBACK = "nc_verify"
# (field, label, max length, hint): nothing is prefilled, nothing of the record is shown
VERIFY_FIELDS: tuple[tuple[str, str, int, str], ...] = (
    ("name", "Name the caller gives", 100, "first and last name"),
    ("zip", "ZIP", 10, "5 digits"),
    ("email", "Email", 254, ""),
    ("street", "Street", 200, "e.g. 129 W 81st St"),
)


def verify_modal(phone: str, channel_id: str | None) -> dict[str, Any]:
    """The empty form an agent types the caller's claims into; ``private_metadata`` holds only where and which number."""
    from nextcaller_ops.api.render import format_number

    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "block_id": "nc_verify_ctx",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Caller {esc(format_number(phone))} · only the verdicts are kept, never what you type",
                }
            ],
        }
    ]
    for name, label, max_len, hint in VERIFY_FIELDS:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_len}
        if hint:
            element["placeholder"] = plain(hint)
        blocks.append(
            {"type": "input", "block_id": "v_" + name, "optional": True, "label": plain(label), "element": element}
        )
    return {
        "type": "modal",
        "callback_id": VERIFY_CALLBACK,
        "title": plain("Verify caller", 24),
        "submit": plain("Verify", 24),
        "close": plain("Cancel", 24),
        "private_metadata": json.dumps({"phone": phone, "channel": channel_id}, separators=(",", ":")),
        "blocks": blocks,
    }


def verify_values(view: Mapping[str, Any]) -> dict[str, str]:
    """``{"name": "...", "zip": "...", ...}`` as typed into the verify modal (blank: not given)."""
    values: dict[str, str] = {}
    for block_id, actions in (view.get("state", {}).get("values", {}) or {}).items():
        if block_id.startswith("v_") and isinstance(actions, dict):
            values[block_id[2:]] = ((actions.get("value") or {}).get("value") or "").strip()
    return values
