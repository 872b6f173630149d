"""``/caller watch [on|off]`` and ``/caller triage``: a triage channel's words, answered in the ack.

Both only read or write the triage store (no API call, and a bounded read), so they fit in Slack's 3 s.
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
    """The channel's open items from the last 24 h, oldest first, privately.

    Answered in the ack: one bounded page (the oldest :data:`MAX_LISTED`, only the columns a line
    shows) and a count, however many items are open.
    """
    triage = services.triage
    if not channel_id or not triage.watched(channel_id):
        return say_text(messages.NOT_WATCHED)
    items, total = triage.open_summary(channel_id, MAX_LISTED)
    services.audit.record(
        user_id=user_id, channel_id=channel_id, action="triage", phone=None, outcome=f"listed {total}"
    )
    if not total:
        return say_text(messages.NO_OPEN_ITEMS)
    lines = [messages.open_items_title(total)]
    for item in items:
        lines.append(
            f"• {messages.when(item.created)} — {item.summary or ', '.join(item.numbers)} — {status_line(item)}"
        )
    if total > len(items):
        lines.append(messages.triage_more_items(total - len(items)))
    return say_text("\n".join(lines))
