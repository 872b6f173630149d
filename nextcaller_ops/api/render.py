"""Profiles for people: a text card for terminals, an HTML card for notebooks, table rows.

Block Kit cards are the bot's business (``bot/blocks.py``); they use the same
field list, :func:`card_fields`, so every surface shows the same facts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from .models import FLAT_COLUMNS, V21_FLAT_COLUMNS, Profile
from .text import printable

__all__ = [
    "card_fields",
    "text_card",
    "html_card",
    "FONT_CSS",
    "TEXT_CSS",
    "THREAT_COLOURS",
    "THREAT_TEXT_COLOURS",
    "BATCH_COLUMNS",
    "RECORD_COLUMNS",
    "V21_BATCH_COLUMNS",
    "FRAUD_COLUMNS",
    "batch_columns",
    "batch_row",
    "record_rows",
    "max_threat",
    "contrast_ratio",
    "spoof_label",
    "threat_label",
    "risk_label",
    "text_cards",
    "no_record_text",
    "own_input_problem",
    "format_number",
]

# Badge background and text colours: every pair passes WCAG AA for normal text (contrast >= 4.5:1);
# white on amber would be ~1.9:1, so the medium badge has dark text.
THREAT_COLOURS = {"low": "#2e7d32", "medium": "#f9a825", "high": "#c62828"}
THREAT_TEXT_COLOURS = {"low": "#ffffff", "medium": "#1f1f1f", "high": "#ffffff"}
_UNKNOWN_BADGE = ("#616161", "#ffffff")
_THREAT_ORDER = {"low": 1, "medium": 2, "high": 3}
_THREAT_MARKS = {"low": "🟢", "medium": "🟡", "high": "🔴"}


def threat_label(profile: Profile) -> str:
    return risk_label(profile.fraud_threat)


def risk_label(level: str) -> str:
    """``"high"`` -> ``"🔴 high"``: a record's fraud threat, or v2.1's fraud risk for a number."""
    level = (level or "").lower()
    if not level:
        return "unknown"
    return f"{_THREAT_MARKS.get(level, '⚪')} {printable(level)}"  # the API's word: nothing a terminal acts on


_SPOOF_WORDS = {"true": "⚠️ yes — the caller ID may be spoofed", "false": "no", "unknown": "unknown"}


def spoof_label(spoof: str) -> str:
    """v2.1's ``spoof`` / ``spoofed`` (``"true"``, ``"false"``, ``"unknown"``) for people."""
    return _SPOOF_WORDS.get((spoof or "").lower(), printable(spoof or ""))


def _social(profile: Profile) -> str:
    return ", ".join(f"{link.type}: {link.url}" if link.type else link.url for link in profile.social_links if link.url)


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
    # v2.1's line type, spoofing, age range and social links show when the record has them (never on v2).
    pairs = [
        ("Phones", phones),
        ("Carrier", profile.carrier),
        ("Line type", profile.line_type),
        ("Address", address),
        ("Email", email),
        ("Social", "" if redact else _social(profile)),
        ("Language", profile.language),
        ("Age", profile.age),
        ("Routing", routing),
        ("Fraud threat", threat_label(profile) if profile.fraud_threat else ""),
        ("Spoofed", spoof_label(profile.spoof) if profile.spoof else ""),
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
    """The card for a terminal; record text never carries control characters to it."""
    name = printable(profile.display_name)
    lines = [name, "─" * max(12, len(name))]
    width = max(len(k) for k, _ in card_fields(profile, redact=redact) or [("", "")])
    for label, value in card_fields(profile, redact=redact):
        lines.append(f"{label:<{width}}  {printable(value)}")
    if profile.id:
        lines.append(f"{'Record':<{width}}  {printable(profile.id)}")
    return "\n".join(lines)


def own_input_problem(raw: str, exc: Any) -> str:
    """Why the number a person typed is no phone number, with what they typed shown as typed (unmasked).

    Masking is for what others see (logs, shared channels); echoing someone's own
    input back masked only hides what they must fix.  Nothing a terminal would act
    on is shown.  A spreadsheet's scientific notation (``2.12556E+09``) is named.
    """
    reason = getattr(exc, "reason", "") or str(exc)
    if re.fullmatch(r"\s*\d(\.\d+)?[eE]\+?\d+\s*", raw):
        reason = "it is in scientific notation (a spreadsheet shortened it): format the column as text and export again"
    hint = getattr(exc, "hint", "")
    return f"not a phone number {printable(raw)!r}: {reason}" + (f" — {hint}" if hint else "")


def no_record_text(phone: str = "") -> str:
    """The sentence every surface shows when the API has no record for ``phone`` (or an email, a name)."""
    return f"No record for {printable(format_number(phone))}." if phone else "No record."


def text_cards(profiles: Iterable[Profile], phone: str = "") -> str:
    cards = [text_card(p) for p in profiles]
    if not cards:
        return no_record_text(phone)
    return "\n\n".join(cards)


FONT_CSS = "font-family:system-ui,-apple-system,Segoe UI,sans-serif"
# Colours follow the notebook's theme: JupyterLab's CSS variables (light and dark alike), and where there are
# none (classic Notebook, an exported HTML file) the page's own text colour, never a fixed grey that vanishes
# on a dark background.
TEXT_CSS = "color:var(--jp-content-font-color1,inherit)"
LABEL_CSS = "color:var(--jp-content-font-color2,inherit)"
FAINT_CSS = "color:var(--jp-content-font-color2,inherit);opacity:.85"
BORDER_CSS = "border:1px solid var(--jp-border-color1,rgba(128,128,128,.45))"
_CSS = f"{FONT_CSS};{TEXT_CSS};{BORDER_CSS};border-radius:8px;padding:12px 16px;margin:6px 0;max-width:560px"


def html_card(profile: Profile) -> str:
    def e(value: str) -> str:  # escaped, and no control character (a bidi override would reorder the card)
        return html.escape(printable(value))

    level = (profile.fraud_threat or "").lower()
    colour, text_colour = (
        THREAT_COLOURS.get(level, _UNKNOWN_BADGE[0]),
        THREAT_TEXT_COLOURS.get(level, _UNKNOWN_BADGE[1]),
    )
    rows = []
    for label, value in card_fields(profile):
        if label == "Fraud threat":
            cell = (
                f'<span class="nc-threat nc-threat-{e(level)}" style="background:{colour};color:{text_colour};'
                f'border-radius:4px;padding:1px 8px">{e(level)}</span>'
            )
        else:
            cell = e(value)
        rows.append(
            f'<tr><th style="text-align:left;padding-right:12px;{LABEL_CSS};font-weight:600">'
            f'{e(label)}</th><td style="text-align:left">{cell}</td></tr>'
        )
    record = f'<div style="{FAINT_CSS};font-size:smaller">record {e(profile.id)}</div>' if profile.id else ""
    return (
        f'<div class="nextcaller-card" style="{_CSS}">'
        f'<div style="font-size:1.2em;font-weight:600;margin-bottom:6px">{e(profile.display_name)}</div>'
        f'<table style="border-collapse:collapse">{"".join(rows)}</table>{record}</div>'
    )


BATCH_COLUMNS = ("input", "phone", "status", "duplicate", "records", "max_fraud_threat", *FLAT_COLUMNS, "error")
# One row per record (``--rows record``): which of the line's records the row shows, 1-based.
RECORD_COLUMNS = (
    "input",
    "phone",
    "status",
    "duplicate",
    "records",
    "record",
    "max_fraud_threat",
    *FLAT_COLUMNS,
    "error",
)
# On API v2.1 a batch also has the record's line type, spoof, age range and social links.
V21_BATCH_COLUMNS = (*BATCH_COLUMNS[:-1], *V21_FLAT_COLUMNS, "error")
# With a fraud check (v2.1): the number's fraud level.
FRAUD_COLUMNS = ("spoofed", "fraud_risk")


def batch_columns(api_version: str = "v2", *, fraud: bool = False, per_record: bool = False) -> tuple[str, ...]:
    """The columns of a batch's rows: v2's (unchanged), or v2.1's, with the fraud level's when asked for."""
    columns = RECORD_COLUMNS if per_record else BATCH_COLUMNS
    if api_version == "v2.1":
        columns = (*columns[:-1], *V21_FLAT_COLUMNS, "error")
    return (*columns[:-1], *FRAUD_COLUMNS, "error") if fraud else columns


def max_threat(profiles: Iterable[Profile]) -> str:
    """The highest fraud threat among ``profiles`` (low < medium < high); "" when none is rated."""
    levels = [(p.fraud_threat or "").lower() for p in profiles]
    rated = [lv for lv in levels if lv in _THREAT_ORDER]
    return max(rated, key=_THREAT_ORDER.__getitem__) if rated else ""


def batch_row(item: Any, profile: Profile | None = None, columns: tuple[str, ...] = BATCH_COLUMNS) -> dict[str, Any]:
    """One output row for a :class:`~nextcaller_ops.client.fanout.BatchItem` (the first profile shown), with ``columns``.

    ``max_fraud_threat`` is over all the line's records, so a household whose
    second person is rated high is not hidden behind the first.  Blank fields
    are ``""`` here (CSV); the DataFrame makes them missing values.
    """
    profiles = item.profiles
    shown = profile or (profiles[0] if profiles else None)
    row: dict[str, Any] = {
        "input": item.input,
        "phone": item.phone or "",
        "status": item.status,
        "duplicate": item.duplicate,
        "records": len(profiles),
        "max_fraud_threat": max_threat(profiles),
    }
    flat = shown.flat() if shown is not None else dict.fromkeys(FLAT_COLUMNS, "")
    row.update(flat)
    row.update(shown.flat_v21() if shown is not None else dict.fromkeys(V21_FLAT_COLUMNS, ""))
    fraud = item.result.fraud if item.result is not None else None
    row["spoofed"] = fraud.spoofed if fraud is not None else ""
    row["fraud_risk"] = fraud.fraud_risk if fraud is not None else ""
    row["error"] = str(item.error) if item.error else ""
    return {k: row[k] for k in columns}


def record_rows(item: Any, columns: tuple[str, ...] = RECORD_COLUMNS) -> list[dict[str, Any]]:
    """One row per record of the line (``RECORD_COLUMNS``); a line with none still gets one row."""
    profiles = item.profiles or (None,)
    rows = []
    for number, profile in enumerate(profiles, 1):
        row = batch_row(item, profile, tuple(c for c in columns if c != "record"))
        row["record"] = number if profile is not None else None
        rows.append({k: row[k] for k in columns})
    return rows


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21; AA body text needs 4.5)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
