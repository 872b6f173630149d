"""``/caller digest`` (admins): post the triage digest now — this channel's when it is watched, else every
watched channel's — covering the last 24 h, whatever changed (:mod:`bot.triage.digest`)."""

from __future__ import annotations

from slack_bolt import Ack, Respond

from ... import messages
from ...services import Services
from ...triage.digest import DAY, post_digest, watched_channels


def digest_command(ack: Ack, respond: Respond, services: Services, user_id: str | None, channel_id: str | None) -> None:
    triage = services.triage
    if not triage.is_admin(user_id):
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action="digest", phone=None, outcome="refused: not an admin"
        )
        ack(response_type="ephemeral", text=messages.DIGEST_ADMINS_ONLY)
        return
    channels = [channel_id] if channel_id and triage.watched(channel_id) else watched_channels(triage)
    if not channels:
        ack(response_type="ephemeral", text=messages.DIGEST_NOTHING_WATCHED)
        return
    ack()  # posting takes a Slack call per channel: after the ack
    since = triage.now() - DAY
    posted = sum(post_digest(triage, c, since=since, force=True) for c in channels)
    services.audit.record(
        user_id=user_id,
        channel_id=channel_id,
        action="digest",
        phone=None,
        outcome=f"posted {posted}",
        detail=" ".join(channels),
    )
    respond(response_type="ephemeral", text=messages.digest_posted(posted))
