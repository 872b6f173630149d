"""The one gate every interactive request passes: who may do what, where, checked before any listener.

A global Bolt middleware (:func:`policy_gate`) reads who is asking and where from
any request — a slash command, a button, a modal submission, a shortcut, an
event — asks the :class:`~bot.policy.Policy`, and refuses there, audited, in the
way that kind of request is answered (in the command's ack, as errors on the
modal's fields, privately after the ack for a button or a shortcut).  No
listener can forget it.  The per-user rate limit applies to lookups only, so the
listeners that look numbers up ask :func:`rate_refusal` themselves.

Messages in watched channels are not people asking for something (the poster
may be an integration): the triage listener asks :func:`channel_refusal`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse

from . import blocks, messages, modal
from .policy import Refusal
from .services import Services, services_from
from .triage import cards

__all__ = ["Asker", "asker", "policy_gate", "dedupe_events", "refuse", "rate_refusal", "channel_refusal"]

log = logging.getLogger("bot")

REFUSED_POLICY = "refused: policy"
REFUSED_RATE = "refused: rate limit"
REFUSED_INTERNAL = "refused: internal number"

# What each button is called in the audit log (anything else: its action_id).
_ACTION_NAMES = {
    blocks.ACTION_SHARE: "share",
    blocks.ACTION_SUGGEST: "suggest",
    blocks.ACTION_REFRESH: "refresh",
    blocks.ACTION_FRAUD: "fraud",
    cards.ACTION_FULL_CARD: "triage_card",
    cards.ACTION_CLAIM: "claim",
    cards.ACTION_RELEASE: "release",
    cards.ACTION_RESOLVE: "resolve",
    cards.ACTION_FLAG: "flag_fraud",
    cards.ACTION_LOOKUP: "triage_lookup",
    cards.ACTION_SNOOZE: "snooze",
    cards.ACTION_DROP: "drop",
    cards.ACTION_REOPEN: "reopen",
    cards.ACTION_VERIFY: "verify",
    blocks.ACTION_VERIFY: "verify",
}
_COMMAND_WORDS = {"watch": "watch", "triage": "triage"}


@dataclass(frozen=True)
class Asker:
    """Who asks for what, where: what the policy and the audit log need from a request."""

    kind: str  # command, action, view, shortcut, event
    action: str  # the audit log's name for it
    user_id: str | None
    channel_id: str | None
    phone: str | None = None
    check_channel: bool = True  # App Home is nobody's channel


def _phone_of(value: str | None) -> str | None:
    try:
        return parse(json.loads(value or "")["phone"]).number
    except (ValueError, TypeError, KeyError, errors.InvalidPhoneError):
        return None


def asker(body: dict[str, Any]) -> Asker | None:
    """Who is asking in ``body`` (any Slack request); None for what is nobody's request to refuse."""
    kind = body.get("type")
    user = body.get("user") or {}
    channel = body.get("channel") or {}
    if "command" in body and not kind:
        first = (body.get("text") or "").strip().split(" ", 1)[0].lower()
        return Asker("command", _COMMAND_WORDS.get(first, "lookup"), body.get("user_id"), body.get("channel_id"))
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        action_id = action.get("action_id") or "button"
        return Asker(
            "action",
            _ACTION_NAMES.get(action_id, action_id),
            user.get("id"),
            channel.get("id"),
            _phone_of(action.get("value")),
        )
    if kind in ("view_submission", "view_closed"):
        meta = _metadata(body.get("view") or {})
        action = "verify" if (body.get("view") or {}).get("callback_id") == modal.VERIFY_CALLBACK else "correction"
        return Asker("view", action, user.get("id"), meta.get("channel"), meta.get("phone"))
    if kind in ("message_action", "shortcut"):
        return Asker("shortcut", "lookup", user.get("id"), channel.get("id"))
    if kind == "event_callback":
        event = body.get("event") or {}
        if event.get("type") == "message":
            return None  # a message's poster asks for nothing; the triage listener checks the channel
        user_id, channel_id = event.get("user"), event.get("channel")
        if isinstance(user_id, str) and user_id:
            # App Home is the person's own space, not a channel; any other event is checked where it happened
            in_channel = isinstance(channel_id, str) and event.get("type") != "app_home_opened"
            return Asker(
                "event", event.get("type") or "event", user_id, channel_id if in_channel else None, None, in_channel
            )
    return None


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def refuse(services: Services, who: Asker) -> Refusal | None:
    """The policy's refusal for ``who`` (audited), or None when allowed."""
    reason = services.policy.refusal(who.user_id, who.channel_id, check_channel=who.check_channel)
    if reason is not None:
        services.audit.record(
            user_id=who.user_id,
            channel_id=who.channel_id,
            action=who.action,
            phone=who.phone,
            outcome=REFUSED_POLICY,
            detail=str(reason),
        )
        log.info("refused %s %s by %s in %s: %s", who.kind, who.action, who.user_id, who.channel_id, reason)
    return reason


def rate_refusal(
    services: Services, user_id: str | None, channel_id: str | None, action: str, phone: str | None = None
) -> str | None:
    """The sentence (audited) when ``phone`` is one of the team's internal numbers (never looked up, nothing
    counted) or ``user_id`` is over the per-minute lookup limit; else counts this lookup."""
    if phone and phone in services.settings.internal_numbers:
        services.audit.record(
            user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome=REFUSED_INTERNAL
        )
        return messages.INTERNAL_NUMBER
    wait = services.limiter.wait_time(user_id or "?")
    if not wait:
        return None
    services.audit.record(user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome=REFUSED_RATE)
    return messages.rate_limited(services.limiter.limit, wait)


def channel_refusal(services: Services, channel_id: str, action: str) -> Refusal | None:
    """For messages in a watched channel: only the channel allowlist applies (the poster may be an app)."""
    if not services.policy.channel_refused(channel_id):
        return None
    services.audit.record(user_id=None, channel_id=channel_id, action=action, phone=None, outcome=REFUSED_POLICY)
    return Refusal.CHANNEL


def _first_input_block(view: dict[str, Any]) -> str:
    ids = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input" and b.get("block_id")]
    return ids[0] if ids else modal.field_block_id("first_name")


def _json(body: dict[str, Any]) -> BoltResponse:
    return BoltResponse(status=200, body=json.dumps(body), headers={"content-type": "application/json;charset=utf-8"})


def policy_gate(executor: Executor) -> Callable[..., BoltResponse | None]:
    """The global middleware: refused requests are answered here and go no further.

    Anything that has to travel after the ack (a private note for a button press,
    the App Home view) is sent from ``executor``, so the ack never waits on Slack.
    """

    def gate_policy(
        body: dict[str, Any], context: BoltContext, respond: Respond, next_: Callable[[], None]
    ) -> BoltResponse | None:
        who = asker(body)
        if who is None:
            next_()
            return None
        services = services_from(context)
        reason = refuse(services, who)
        if reason is None:
            next_()
            return None
        text = messages.refusal(reason)
        if who.kind == "command":
            return _json({"response_type": "ephemeral", "text": text})
        if who.kind == "view":
            if body.get("type") == "view_closed":
                return BoltResponse(status=200, body="")
            view = body.get("view") or {}
            return _json({"response_action": "errors", "errors": {_first_input_block(view): text}})
        if who.kind in ("action", "shortcut") and body.get("response_url"):
            executor.submit(_quietly, lambda: respond(response_type="ephemeral", replace_original=False, text=text))
        elif who.kind == "event" and who.action == "app_home_opened" and who.user_id:
            user_id = who.user_id
            executor.submit(
                _quietly, lambda: services.web.views_publish(user_id=user_id, view=blocks.refused_home_view(text))
            )
        return BoltResponse(status=200, body="")

    return gate_policy


def dedupe_events(body: dict[str, Any], context: BoltContext, next_: Callable[[], None]) -> BoltResponse | None:
    """A Slack event delivered again (a retry, or to a second process) is acked and handled once.

    One atomic claim of its ``event_id`` in the database: whichever process or
    thread claims first handles it, every other delivery is only acknowledged.
    """
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if not event_id:
        next_()
        return None
    services = services_from(context)
    event = body.get("event") or {}
    if event.get("type") == "message" and not services.triage.watched(event.get("channel")):
        next_()  # the listener ignores it anyway: no row per chat message in channels nobody watches
        return None
    if not services.dedupe.claim(f"event:{event_id}"):
        log.info("event %s delivered again: acknowledged, not handled twice", event_id)
        return BoltResponse(status=200, body="")
    next_()
    return None


def _quietly(send: Callable[[], Any]) -> None:
    try:
        send()
    except Exception as exc:  # Slack unreachable: the refusal is audited all the same
        log.warning("could not tell someone they were refused: %s", type(exc).__name__)
