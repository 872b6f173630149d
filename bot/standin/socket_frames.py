"""What goes over a Socket Mode WebSocket, and the stand-in's records of it (``bot/standin/socket_server.py``).

Slack's messages as its documentation and slack_sdk show them: ``hello`` on a new
connection, ``disconnect`` when Slack wants the connection gone, and an envelope
per delivery (``envelope_id``, ``type``, ``payload``, ``accepts_response_payload``;
``retry_attempt``/``retry_reason`` on ``events_api``).  The app answers an envelope
with ``{"envelope_id": ..., "payload": ...}``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Link", "Envelope", "Ack", "hello", "disconnect", "envelope", "event_callback"]


@dataclass
class Link:
    """One WebSocket connection, as Slack sees it."""

    id: int
    opened_at: float  # when ``hello`` went out (monotonic)
    state: str = "open"  # open · refreshing (a disconnect was sent) · closed
    closed_at: float | None = None
    closed_by: str | None = None  # "bot" (a close frame from the bot), "slack", "drop", or "lost" (no close frame)
    ws: Any = field(default=None, repr=False)  # the server's websockets connection


@dataclass(frozen=True)
class Envelope:
    envelope_id: str
    type: str
    payload: dict[str, Any]
    connection: int
    sent_at: float
    retry_attempt: int = 0
    accepts_response_payload: bool = False


@dataclass(frozen=True)
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    connection: int
    at: float
    latency: float | None  # seconds from the envelope going out to its ack; None for an unknown envelope


def hello(link_id: int, num_connections: int, app_id: str) -> dict[str, Any]:
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {"host": f"applink-fake-{link_id}", "build_number": 1, "approximate_connection_time": 3600},
        "connection_info": {"app_id": app_id},
    }


def disconnect(link_id: int, reason: str) -> dict[str, Any]:
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": f"applink-fake-{link_id}"}}


def envelope(
    envelope_id: str, kind: str, payload: dict[str, Any], *, accepts: bool, retry_attempt: int, retry_reason: str
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "envelope_id": envelope_id,
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts,
    }
    if kind == "events_api":
        frame.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
    return frame


def event_callback(event: dict[str, Any], *, app_id: str, event_id: str | None = None) -> dict[str, Any]:
    """The ``events_api`` payload around ``event``."""
    return {
        "token": "legacy-unused",
        "team_id": "T0000000001",
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0000000001", "user_id": "U0BOT00001", "is_bot": True}],
    }
