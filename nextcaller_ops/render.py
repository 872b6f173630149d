"""Profiles for people: a text card for terminals, an HTML card for notebooks, table rows.

Block Kit cards are the bot's business (``bot/blocks.py``); they use the same
field list, :func:`card_fields`, so every surface shows the same facts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from .models import FLAT_COLUMNS, Profile

__all__ = [
    "card_fields",
    "text_card",
    "html_card",
    "FONT_CSS",
    "THREAT_COLOURS",
    "BATCH_COLUMNS",
    "batch_row",
    "threat_label",
    "text_cards",
    "no_record_text",
    "format_number",
]

THREAT_COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#c62828"}
_THREAT_MARKS = {"low": "🟢", "medium": "🟡", "high": "🔴"}


def threat_label(profile: Profile) -> str:
    level = (profile.fraud_threat or "").lower()
    if not level:
        return "unknown"
    return f"{_THREAT_MARKS.get(level, '⚪')} {level}"


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def card_fields(profile: Profile, *, redact: bool = False) -> list[tuple[str, str]]:
    """(label, value) pairs in the order every surface shows them; empty values left out.

    ``redact`` masks the email and street lines (for shared channels).
    """
    phones = ", ".join(format_number(n) for n in profile.phone_numbers)
    addresses = list(profile.addresses)
    if redact:
        address = "; ".join(
            ", ".join(p for p in (a.city, a.state) if p) + " (street hidden)" for a in addresses if a.city or a.state
        )
        email = _mask_email(profile.email)
    else:
        address = "; ".join(a.one_line for a in addresses if a.one_line)
        email = profile.email
    routing = "priority (member)" if profile.member else ("standard" if profile.member is False else "")
    pairs = [
        ("Phones", phones),
        ("Carrier", profile.carrier),
        ("Address", address),
        ("Email", email),
        ("Language", profile.language),
        ("Routing", routing),
        ("Fraud threat", threat_label(profile) if profile.fraud_threat else ""),
        ("Department", profile.department),
        ("Billing on file", _yes_no(profile.billing_info_on_file) if profile.billing_info_on_file is not None else ""),
    ]
    return [(k, v) for k, v in pairs if v]


def format_number(n: str) -> str:
    """``2125558383`` -> ``(212) 555-8383``; anything else as it is."""
    return f"({n[:3]}) {n[3:6]}-{n[6:]}" if len(n) == 10 and n.isdigit() else n


def _mask_email(email: str) -> str:
    if not email or "@" not in email:
        return "•••" if email else ""
    user, domain = email.split("@", 1)
    return f"{user[:1]}•••@{domain}"


def text_card(profile: Profile, *, redact: bool = False) -> str:
    lines = [profile.display_name, "─" * max(12, len(profile.display_name))]
    width = max(len(k) for k, _ in card_fields(profile, redact=redact) or [("", "")])
    for label, value in card_fields(profile, redact=redact):
        lines.append(f"{label:<{width}}  {value}")
    if profile.id:
        lines.append(f"{'Record':<{width}}  {profile.id}")
    return "\n".join(lines)


def no_record_text(phone: str = "") -> str:
    """The sentence every surface shows when the API has no record for ``phone``."""
    return f"No record for {format_number(phone)}." if phone else "No record."


def text_cards(profiles: Iterable[Profile], phone: str = "") -> str:
    cards = [text_card(p) for p in profiles]
    if not cards:
        return no_record_text(phone)
    return "\n\n".join(cards)


FONT_CSS = "font-family:system-ui,-apple-system,Segoe UI,sans-serif"
_CSS = FONT_CSS + ";border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:6px 0;max-width:560px"


def html_card(profile: Profile) -> str:
    e = html.escape
    level = (profile.fraud_threat or "").lower()
    colour = THREAT_COLOURS.get(level, "#757575")
    rows = []
    for label, value in card_fields(profile):
        if label == "Fraud threat":
            cell = (
                f'<span class="nc-threat nc-threat-{e(level)}" style="background:{colour};color:#fff;'
                f'border-radius:4px;padding:1px 8px">{e(level)}</span>'
            )
        else:
            cell = e(value)
        rows.append(
            f'<tr><th style="text-align:left;padding-right:12px;color:#555;font-weight:500">'
            f'{e(label)}</th><td style="text-align:left">{cell}</td></tr>'
        )
    record = f'<div style="color:#888;font-size:smaller">record {e(profile.id)}</div>' if profile.id else ""
    return (
        f'<div class="nextcaller-card" style="{_CSS}">'
        f'<div style="font-size:1.2em;font-weight:600;margin-bottom:6px">{e(profile.display_name)}</div>'
        f'<table style="border-collapse:collapse">{"".join(rows)}</table>{record}</div>'
    )


BATCH_COLUMNS = ("input", "phone", "status", "duplicate", "records", *FLAT_COLUMNS, "error")


def batch_row(item: Any, profile: Profile | None = None) -> dict[str, Any]:
    """One output row for a :class:`~nextcaller_ops.batch.BatchItem` (first profile shown)."""
    profiles = item.profiles
    shown = profile or (profiles[0] if profiles else None)
    row: dict[str, Any] = {
        "input": item.input,
        "phone": item.phone or "",
        "status": item.status,
        "duplicate": item.duplicate,
        "records": len(profiles),
    }
    flat = shown.flat() if shown is not None else dict.fromkeys(FLAT_COLUMNS, "")
    row.update(flat)
    row["error"] = str(item.error) if item.error else ""
    return row
