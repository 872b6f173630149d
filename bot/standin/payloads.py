"""What Slack sends the bot, built and signed the way Slack does: for the demo, the tests and the benchmarks.

Slash commands, button presses, modal submissions and events as payloads, and
:func:`send_signed`, which delivers one with ``X-Slack-Request-Timestamp`` and a
v0 HMAC-SHA256 signature.  :mod:`bot.standin.web_api` plays the other direction
(Slack's Web API and ``response_url``s).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

__all__ = [
    "send_signed",
    "command_body",
    "interaction_body",
    "block_actions",
    "view_submission",
    "event_body",
    "message_event",
]


def command_body(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0AGENT001",
    channel_id: str = "C0TRIAGE01",
    command: str = "/caller",
    trigger_id: str = "1337.42.abcd",
) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T0000000001",
            "team_domain": "example",
            "channel_id": channel_id,
            "channel_name": "triage",
            "user_id": user_id,
            "user_name": "agent",
            "command": command,
            "text": text,
            "api_app_id": "A0APP00001",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = "U0AGENT001",
    channel: str = "C0TRIAGE01",
    message_ts: str | None = None,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when ``user`` presses a button (``interaction_body`` wraps it).

    ``message_ts``: the button sits on a message in the channel (a triage reply);
    without it, on the private card the bot answered with.
    """
    container: dict[str, Any] = (
        {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False}
        if message_ts
        else {"type": "message", "is_ephemeral": True}
    )
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "agent"},
        "team": {"id": "T0000000001"},
        "api_app_id": "A0APP00001",
        "token": "legacy",
        "trigger_id": trigger_id or f"trig.{time.time_ns()}",
        "channel": {"id": channel, "name": "triage"},
        "response_url": response_url,
        "container": container,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "nc_actions_0",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if message_ts:
        payload["message"] = {"ts": message_ts}
    return payload


def view_submission(
    view: dict[str, Any], typed: dict[str, str], *, view_id: str, user: str = "U0AGENT001"
) -> dict[str, Any]:
    """The ``view_submission`` payload for ``view``: every input as shown, ``typed`` (block id -> text) typed in."""
    state = {
        "values": {
            block["block_id"]: {
                "value": {
                    "type": "plain_text_input",
                    "value": typed.get(block["block_id"], block["element"].get("initial_value")),
                }
            }
            for block in view["blocks"]
            if block["type"] == "input"
        }
    }
    return {
        "type": "view_submission",
        "team": {"id": "T0000000001"},
        "user": {"id": user},
        "api_app_id": "A0APP00001",
        "token": "legacy",
        "trigger_id": f"trig.{time.time_ns()}",
        "view": {**view, "id": view_id, "state": state},
    }


def message_event(
    channel: str,
    text: str,
    ts: str,
    *,
    user: str | None = None,
    bot_id: str | None = None,
    subtype: str | None = None,
    thread_ts: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event as Slack sends it for a channel the app is in (a person's, or an app's with ``bot_id``)."""
    event: dict[str, Any] = {"type": "message", "channel": channel, "text": text, "ts": ts, "event_ts": ts}
    event["channel_type"] = "group" if channel.startswith("G") else "channel"
    for key, value in (("user", user), ("bot_id", bot_id), ("subtype", subtype), ("thread_ts", thread_ts)):
        if value is not None:
            event[key] = value
    event.update(extra)
    return event


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    """The ``event_callback`` envelope Slack posts to the Events API URL."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0000000001",
            "api_app_id": "A0APP00001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
        }
    )


def send_signed(
    url: str,
    body: str,
    signing_secret: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> requests.Response:
    """POST ``body`` the way Slack does: X-Slack-Request-Timestamp and a v0 HMAC-SHA256 signature.

    ``timeout`` is generous: the request is sent once (a retry would be a second delivery), and a bot
    on a loaded machine may be slow to answer without being broken.  Whether the bot acked within
    Slack's 3 s is for a test to measure, not for this client to enforce.
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    all_headers.update(headers or {})
    return requests.post(url, data=body.encode("utf-8"), headers=all_headers, timeout=timeout)
