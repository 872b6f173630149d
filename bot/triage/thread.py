"""Recognising the bot's own reply to an item in its thread, and telling whether a redraw changes anything.

Every reply is posted with message metadata naming its item (:func:`reply_metadata`).  A worker
that takes over an item whose post was started but whose ts was never saved (the process was
killed between the two, or Slack's answer was lost) reads the thread (:func:`find_reply`) and
adopts the reply it finds rather than posting a second one.

:func:`digest` fingerprints what a reply is drawn with: a rerun that would draw the same text
and blocks does not call ``chat.update``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from nextcaller_ops.stores import TriageItem

__all__ = ["REPLY_EVENT", "UNKNOWN", "reply_metadata", "find_reply", "digest"]

log = logging.getLogger("bot.triage")

REPLY_EVENT = "nextcaller_triage_reply"  # the metadata event type on every triage reply
UNKNOWN = "?"  # the thread could not be read just now: try again later rather than post blind
MAX_PAGES = 10  # of 200 messages each: a thread longer than that is not searched further


def reply_metadata(item: TriageItem) -> dict[str, Any]:
    """What a reply carries (``chat.postMessage``'s ``metadata``) so that it can be found again."""
    return {"event_type": REPLY_EVENT, "event_payload": {"channel_id": item.channel_id, "message_ts": item.message_ts}}


def _is_reply_to(message: dict[str, Any], item: TriageItem, bot: tuple[str | None, str | None]) -> bool:
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    if metadata.get("event_type") != REPLY_EVENT or payload != reply_metadata(item)["event_payload"]:
        return False
    user_id, bot_id = bot
    if not (user_id or bot_id):
        return True  # who we are is unknown (auth.test failed): the metadata alone
    return (bot_id is not None and message.get("bot_id") == bot_id) or (
        user_id is not None and message.get("user") == user_id
    )


def find_reply(web: WebClient, item: TriageItem, bot: tuple[str | None, str | None]) -> str | None:
    """The ts of our reply to ``item`` in its thread; None when there is none; :data:`UNKNOWN` when
    Slack could not be asked just now.  ``bot`` is our (user id, bot id), to ignore other apps."""
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        try:
            page = web.conversations_replies(
                channel=item.channel_id, ts=item.thread_ts, include_all_metadata=True, limit=200, cursor=cursor
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            if error == "ratelimited":
                return UNKNOWN
            # The thread cannot be read (a missing history scope, the message deleted): rather than
            # never answer, post; at worst a reply that did land is there twice.
            log.warning("triage: could not read the thread in %s (%s): posting the reply", item.channel_id, error)
            return None
        except SlackClientError as exc:
            log.warning("triage: could not read the thread in %s (%s)", item.channel_id, type(exc).__name__)
            return UNKNOWN
        for message in page.get("messages") or []:
            if isinstance(message, dict) and _is_reply_to(message, item, bot):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    return None


def digest(text: str, blocks: list[dict[str, Any]]) -> str:
    """A fingerprint of a reply as drawn (its text and blocks)."""
    drawn = json.dumps([text, blocks], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(drawn.encode("utf-8")).hexdigest()[:32]
