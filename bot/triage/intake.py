"""Which messages in a watched channel the bot answers, and the numbers it finds in them.

New messages and thread replies from people and from other apps (``bot_message``,
or a ``bot_id`` that is not ours); never the bot's own, edits, deletions, joins or
any other housekeeping subtype.  Numbers are found as the message shortcut finds
them (Slack's ``<tel:…|…>`` links included), at most :data:`MAX_NUMBERS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nextcaller_ops.api.phone import PhoneInput, find_numbers

__all__ = ["MAX_NUMBERS", "Message", "read_message"]

MAX_NUMBERS = 5

# Subtypes that are something someone said; everything else (message_changed, message_deleted,
# channel_join, channel_topic, …) is housekeeping.
_SAID = frozenset({None, "bot_message", "thread_broadcast", "file_share", "me_message"})
# Slack's links: <tel:+12125558383|(212) 555-8383>, <mailto:…|…>, <https://…|label>
_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>|<([^<>]*)>")


@dataclass(frozen=True)
class Message:
    channel_id: str
    ts: str
    thread_ts: str  # the reply goes in the thread the message is in, or starts one
    poster: str | None
    numbers: list[PhoneInput]
    more: int  # numbers found beyond MAX_NUMBERS, not looked up


def _plain(text: str) -> str:
    """Slack's markup as a person reads it: a link shows its label (and a bare link its target)."""
    return _LINK.sub(lambda m: f"{m.group(1)} {m.group(2)}" if m.group(2) is not None else m.group(3), text)


def message_text(event: dict[str, Any]) -> str:
    """The text of a message and of its attachments (integrations often post only those)."""
    parts = [event.get("text") or ""]
    for attachment in event.get("attachments") or []:
        if isinstance(attachment, dict):
            parts += [str(attachment.get(k) or "") for k in ("pretext", "title", "text", "fallback")]
            parts += [str(f.get("value") or "") for f in attachment.get("fields") or [] if isinstance(f, dict)]
    return "\n".join(_plain(p) for p in parts if p)


def read_message(event: dict[str, Any], *, bot_id: str | None, bot_user_id: str | None) -> Message | None:
    """The message to answer, or None: not a message, housekeeping, our own, or no number in it."""
    if event.get("type") != "message" or event.get("subtype") not in _SAID or event.get("hidden"):
        return None
    if (bot_id and event.get("bot_id") == bot_id) or (bot_user_id and event.get("user") == bot_user_id):
        return None  # our own replies (they are in the channel's threads too)
    channel_id, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel_id, str) or not isinstance(ts, str):
        return None
    numbers = find_numbers(message_text(event))
    if not numbers:
        return None
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else ts
    poster = event.get("user") or event.get("bot_id")
    return Message(
        channel_id=channel_id,
        ts=ts,
        thread_ts=thread_ts or ts,
        poster=poster if isinstance(poster, str) else None,
        numbers=numbers[:MAX_NUMBERS],
        more=max(0, len(numbers) - MAX_NUMBERS),
    )
