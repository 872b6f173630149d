"""Block Kit builders: profile cards, usage, App Home (the correction modal is :mod:`bot.modal`).

Pure functions from core objects to Slack JSON; no Slack calls here.  Text
from the API is untrusted and escaped for mrkdwn.  Sentences come from
:mod:`bot.messages`; labels stay beside the layout they label.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from nextcaller_ops.api.models import Profile
from nextcaller_ops.api.render import card_fields
from nextcaller_ops.redact import mask_phone

from . import messages
from .messages import USAGE, esc

__all__ = [
    "profile_cards",
    "refused_home_view",
    "usage_blocks",
    "home_view",
    "text_blocks",
    "ACTION_SUGGEST",
    "ACTION_SHARE",
    "ACTION_REFRESH",
    "ACTION_FRAUD",
    "ACTION_VERIFY",
    "SHORTCUT_CALLBACK",
]

ACTION_SUGGEST = "nc_suggest_correction"
ACTION_SHARE = "nc_share"
ACTION_REFRESH = "nc_refresh"
ACTION_FRAUD = "nc_fraud_check"  # API v2.1 only: the number's fraud level
ACTION_VERIFY = "nc_verify_caller"  # a form for what the caller claims, compared with the record (issue 26)
SHORTCUT_CALLBACK = "nc_lookup_message"

MAX_BLOCKS = 50  # Slack's limit for a message
MAX_FIELDS = 10  # Slack's limit for a section's fields; a v2.1 record has more, in a second section
_BLOCKS_PER_CARD = 5  # header, fields, context, actions, divider (one more per further section of fields)


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": (text or " ")[:limit], "emoji": True}


def text_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def usage_blocks() -> list[dict[str, Any]]:
    return text_blocks(USAGE)


def _fields(profile: Profile, redact: bool) -> list[dict[str, Any]]:
    return [
        {"type": "mrkdwn", "text": f"*{esc(label)}*\n{esc(value)}"[:2000]}
        for label, value in card_fields(profile, redact=redact)
    ]


def _card(
    profile: Profile,
    phone: str,
    index: int,
    *,
    redact: bool,
    buttons: bool,
    shared_by: str | None,
    fraud_check: bool = False,
) -> list[dict[str, Any]]:
    fields = _fields(profile, redact)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": f"nc_head_{index}", "text": plain(profile.display_name)}
    ]
    # Sections of at most 10 fields: v2.1's line type, spoof, age and social links must not push any out.
    for part, start in enumerate(range(0, len(fields), MAX_FIELDS)):
        block_id = f"nc_fields_{index}" + (f"_{part + 1}" if part else "")
        blocks.append({"type": "section", "block_id": block_id, "fields": fields[start : start + MAX_FIELDS]})
    context = [
        f"Record `{esc(profile.id)}`" if profile.id else "No record id",
        f"number {mask_phone(phone)}" if redact else f"number {phone}",
    ]
    if shared_by:
        context.append(f"shared by {messages.mention(shared_by)}")
    if redact:
        context.append(messages.REDACTED_NOTE)
    blocks.append(
        {
            "type": "context",
            "block_id": f"nc_ctx_{index}",
            "elements": [{"type": "mrkdwn", "text": " · ".join(context)}],
        }
    )
    if buttons:
        value = json.dumps({"id": profile.id, "phone": phone, "i": index})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"nc_actions_{index}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACTION_SUGGEST,
                        "text": plain("Suggest correction"),
                        "value": value,
                    },
                    {"type": "button", "action_id": ACTION_SHARE, "text": plain("Share in channel"), "value": value},
                    {"type": "button", "action_id": ACTION_REFRESH, "text": plain("Refresh"), "value": value},
                    *(
                        [{"type": "button", "action_id": ACTION_FRAUD, "text": plain("Fraud check"), "value": value}]
                        if fraud_check
                        else []
                    ),
                    {"type": "button", "action_id": ACTION_VERIFY, "text": plain("Verify caller"), "value": value},
                ],
            }
        )
    return blocks


def profile_cards(
    profiles: Iterable[Profile],
    phone: str,
    *,
    redact: bool = False,
    buttons: bool = True,
    shared_by: str | None = None,
    fraud_check: bool = False,
) -> list[dict[str, Any]]:
    """One card per profile, within Slack's 50-block limit (a note says how many were left out).

    ``fraud_check`` (API v2.1) adds a *Fraud check* button to each card.
    """
    profiles = list(profiles)
    if not profiles:
        return text_blocks(messages.no_record(mask_phone(phone) if redact else phone))
    sections = max(-(-len(_fields(p, redact)) // MAX_FIELDS) for p in profiles)
    room = (MAX_BLOCKS - 1) // (_BLOCKS_PER_CARD + max(0, sections - 1))
    shown = profiles if len(profiles) <= room else profiles[:room]
    blocks: list[dict[str, Any]] = []
    for i, profile in enumerate(shown):
        if i:
            blocks.append({"type": "divider", "block_id": f"nc_div_{i}"})
        blocks.extend(
            _card(profile, phone, i, redact=redact, buttons=buttons, shared_by=shared_by, fraud_check=fraud_check)
        )
    if len(shown) < len(profiles):
        blocks.append(
            {
                "type": "context",
                "block_id": "nc_more",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": messages.more_records_not_shown(len(profiles) - len(shown)),
                    }
                ],
            }
        )
    return blocks


def card_text(profiles: Iterable[Profile], phone: str) -> str:
    """The notification/fallback text that goes with a card message."""
    names = [p.display_name for p in profiles]
    return esc(f"Caller {phone}: " + (", ".join(names) if names else "no record"))


# -- App Home -------------------------------------------------------------------------


def refused_home_view(text: str) -> dict[str, Any]:
    """App Home for someone the policy refuses: why, and nothing else."""
    return {"type": "home", "blocks": [{"type": "header", "text": plain("Next Caller")}, *text_blocks(text)]}


def home_view(
    status: Mapping[str, Any], recent: Iterable[Mapping[str, Any]], board: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The App Home tab: the bot's status and the user's recent lookups (numbers masked)."""
    api = "✅ reachable" if status.get("api_ok") else f"❌ {esc(str(status.get('api_error', 'unreachable')))}"
    key = "✅ valid" if status.get("key_ok") else "❌ not accepted" if status.get("api_ok") is not None else "?"
    lines = [
        f"*API:* {api}",
        f"*Consumer key:* {key}",
        f"*Cache:* {status.get('cache', 0)} lookup(s) held",
        f"*Corrections outbox:* {status.get('outbox_pending', 0)} waiting · "
        f"{status.get('outbox_delivered', 0)} delivered · {status.get('outbox_rejected', 0)} refused",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "block_id": "home_head", "text": plain("Next Caller")},
        {"type": "section", "block_id": "home_status", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {"type": "divider", "block_id": "home_div"},
        {"type": "section", "block_id": "home_usage", "text": {"type": "mrkdwn", "text": USAGE}},
        {"type": "header", "block_id": "home_recent_head", "text": plain("Your recent lookups")},
    ]
    rows = [
        f"• {time.strftime('%Y-%m-%d %H:%M', time.gmtime(r['ts']))} UTC — "
        f"{mask_phone(r['phone']) if r.get('phone') else ''} — {esc(r['outcome'])}"
        for r in recent
    ]
    if rows:
        blocks.append(
            {"type": "section", "block_id": "home_recent", "text": {"type": "mrkdwn", "text": "\n".join(rows)}}
        )
    else:
        blocks.append(
            {
                "type": "context",
                "block_id": "home_recent",
                "elements": [{"type": "mrkdwn", "text": messages.NO_LOOKUPS_YET}],
            }
        )
    blocks += board or []  # the triage board (bot.triage.board), below the person's own lookups
    return {"type": "home", "blocks": blocks[:100]}  # Slack's limit for a view
