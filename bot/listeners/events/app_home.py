"""App Home: the bot's status, the user's recent lookups, and the triage board."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from ... import blocks
from ...services import Services, services_from
from ...triage.board import board_blocks


def home_status(services: Services) -> dict[str, Any]:
    """API and key (checked at most once a minute), cache size, and the outbox's counts."""
    status = dict(services.api_status())
    counts = services.outbox.counts()
    status.update(
        cache=len(services.client.cache),
        outbox_pending=counts.get("pending", 0),
        outbox_delivered=counts.get("delivered", 0),
        outbox_rejected=counts.get("rejected", 0),
    )
    return status


def app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    services = services_from(context)
    user_id = event["user"]
    board = board_blocks(services.triage, user_id)  # the triage board: watched channels' open items (issue 26)
    client.views_publish(
        user_id=user_id, view=blocks.home_view(home_status(services), services.audit.recent(user_id), board)
    )
