"""App Home: the bot's status and the user's recent lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import blocks

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from ..app import Services


def home_status(services: Services) -> dict[str, Any]:
    status = dict(services.api_status())
    counts = services.outbox.counts()
    status.update(
        cache=len(services.client.cache),
        outbox_pending=counts.get("pending", 0),
        outbox_delivered=counts.get("delivered", 0),
        outbox_rejected=counts.get("rejected", 0),
    )
    return status


def register(app: App, services: Services) -> None:
    @app.event("app_home_opened")
    def app_home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        client.views_publish(
            user_id=user_id, view=blocks.home_view(home_status(services), services.audit.recent(user_id))
        )
