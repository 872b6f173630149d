"""``/caller watch [on|off]`` and ``/caller triage``: a triage channel's words, answered in the ack.

Both only read or write the triage store (no API call), so they fit in Slack's 3 s.
"""

from __future__ import annotations

from ... import messages
from ...answers import Answer, say_text
from ...services import Services
from ...triage.cards import status_line

MAX_LISTED = 15  # one section block holds 3,000 characters


def watch(services: Services, user_id: str | None, channel_id: str | None, arg: str) -> str:
    """Whether the channel is watched (anyone), or turn it on or off (admins only, persisted, audited)."""
    triage = services.triage
    if not channel_id:
        return messages.WATCH_USAGE
    if not arg:
        return messages.watch_state(triage.watched(channel_id))
    if arg not in ("on", "off"):
        return messages.WATCH_USAGE
    if not triage.is_admin(user_id):
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action="watch", phone=None, outcome="refused: not an admin"
        )
        return messages.WATCH_ADMINS_ONLY
    on = arg == "on"
    triage.set_watch(channel_id, on, by=user_id)
    services.audit.record(user_id=user_id, channel_id=channel_id, action="watch", phone=None, outcome=arg)
    return messages.watch_changed(on)


def triage_list(services: Services, user_id: str | None, channel_id: str | None) -> Answer:
    """The channel's open items from the last 24 h, oldest first, privately."""
    triage = services.triage
    if not channel_id or not triage.watched(channel_id):
        return say_text(messages.NOT_WATCHED)
    items = triage.open_items(channel_id)
    services.audit.record(
        user_id=user_id, channel_id=channel_id, action="triage", phone=None, outcome=f"listed {len(items)}"
    )
    if not items:
        return say_text(messages.NO_OPEN_ITEMS)
    lines = [messages.open_items_title(len(items))]
    for item in items[:MAX_LISTED]:
        lines.append(
            f"• {messages.when(item.created)} — {item.summary or ', '.join(item.numbers)} — {status_line(item)}"
        )
    if len(items) > MAX_LISTED:
        lines.append(messages.triage_more_items(len(items) - MAX_LISTED))
    return say_text("\n".join(lines))
