"""Is an HTTP request's body shaped like something Slack sends?  Checked before Bolt sees it.

Bolt parses the body before it checks the signature and indexes what it parsed
without looking (``payload=[1]``, ``"actions": "x"``, an ``event`` that is a
string); a malformed body then ends in a 500 and, when the parse fails inside
the WSGI adapter, in a raw traceback printed to stderr past the log redaction.
:func:`problem` names what is wrong so the server can answer 400 and log one
redacted line instead.  Only the envelope is checked: what Slack always sends
in that shape.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["problem", "MAX_BODY"]

MAX_BODY = 1_000_000  # Slack's payloads are far smaller
_INTERACTIVE = {"block_actions", "block_suggestion", "view_submission", "view_closed", "message_action", "shortcut"}


def _parse(text: str, content_type: str) -> Any:
    # Bolt's rules (slack_bolt.request.internals.parse_body), so both agree on what the body is.
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        return json.loads(text)
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return json.loads(payload) if payload is not None else {}
    return dict(parse_qsl(text, keep_blank_values=True))


def _is_obj(value: Any, *required: str) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) for k in required)


def problem(body: bytes, content_type: str | None) -> str | None:
    """What makes ``body`` something Slack would not send, in a few words, or None."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    try:
        data = _parse(text, content_type or "")
    except (ValueError, RecursionError):
        return "body is not JSON where JSON is expected"
    if not isinstance(data, dict):
        return "body is not an object"
    kind = data.get("type")
    if kind is not None and not isinstance(kind, str):
        return "`type` is not a string"
    for key in ("team", "channel", "enterprise"):
        if data.get(key) is not None and not isinstance(data[key], dict | str):
            return f"`{key}` is neither an object nor an id"
    auths = data.get("authorizations")
    if auths is not None and not (isinstance(auths, list) and all(isinstance(a, dict) for a in auths)):
        return "`authorizations` is not a list of objects"
    if kind in _INTERACTIVE and not _is_obj(data.get("user"), "id"):
        return "`user` is not an object with an id"
    if kind == "block_actions":
        actions = data.get("actions")
        if not (isinstance(actions, list) and actions and all(_is_obj(a, "action_id") for a in actions)):
            return "`actions` is not a list of actions"
    if kind in ("view_submission", "view_closed") and not _is_obj(data.get("view"), "type"):
        return "`view` is not a view"
    if kind == "event_callback" and not _is_obj(data.get("event"), "type"):
        return "`event` is not an event"
    if "command" in data and not _is_obj(data, "user_id", "response_url"):
        return "a slash command without `user_id` or `response_url`"
    return None
