"""The one gate every interactive request passes: who may do what, where, checked before any listener.

A global Bolt middleware (:func:`policy_gate`) reads who is asking and where from
any request — a slash command, a button, a modal submission, a shortcut, an
event — asks the :class:`~bot.policy.Policy`, and refuses there, audited, in the
way that kind of request is answered (in the command's ack, as errors on the
modal's fields, privately after the ack for a button or a shortcut).  No
listener can forget it.  The same pass applies the per-user lookup limit to the
requests that will look something up (:func:`lookups` reads which from the
request: ``/caller`` with a valid number or address, Refresh, Fraud check, the
triage reply's Show full card and Look up, the message shortcut's numbers, Share
and Suggest correction for a number the cache does not hold, the Verify caller
form's submission with valid claims): over it, the request is refused there too, audited (``refused: rate limit``).  Anything that
is not a valid number costs nothing; the listener refuses it with a reason.

Messages in watched channels are not people asking for something (the poster
may be an integration): the triage listener asks :func:`channel_refusal`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.context.respond import Respond

from nextcaller_ops import errors
from nextcaller_ops.api.phone import find_numbers, parse
from nextcaller_ops.api.queries import check_email
from nextcaller_ops.api.text import control_problem
from nextcaller_ops.api.verify import verify

from . import blocks, messages, modal
from .policy import Refusal
from .services import Services, services_from
from .triage import cards

__all__ = [
    "Asker",
    "asker",
    "Lookup",
    "lookups",
    "refused_numbers",
    "policy_gate",
    "dedupe_events",
    "refuse",
    "rate_refusal",
    "channel_refusal",
    "LOOKUP_BUTTONS",
    "SHORTCUT_NUMBERS",
]

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

# The buttons that look a number up, counted on the presser's per-minute limit: True when a number
# the cache holds costs nothing (Share and Suggest correction re-read the card just shown).
LOOKUP_BUTTONS: dict[str, bool] = {
    blocks.ACTION_REFRESH: False,
    blocks.ACTION_FRAUD: False,
    blocks.ACTION_SHARE: True,
    blocks.ACTION_SUGGEST: True,
    cards.ACTION_FULL_CARD: False,
    cards.ACTION_LOOKUP: False,
}
SHORTCUT_NUMBERS = 5  # the message shortcut looks up this many numbers of a message at most
_HELP_WORDS = ("help", "-h", "--help", "?")
_REFUSED_NUMBERS = "refused_numbers"  # the context key: a shortcut's numbers over the limit


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


@dataclass(frozen=True)
class Lookup:
    """One lookup a request will make: the audit log's name for it and the number (None: by address)."""

    action: str
    phone: str | None = None


def lookups(body: dict[str, Any], services: Services) -> list[Lookup]:
    """The lookups ``body`` will make, read from the request as its listener will read it; [] costs nothing.

    Whatever its listener refuses before asking the API (usage, a bad number or address, a
    button value that is not ours) is not a lookup here either.
    """
    kind = body.get("type")
    if "command" in body and not kind:
        return _command_lookups(body.get("text") or "", services)
    if kind == "block_actions":
        action = (body.get("actions") or [{}])[0]
        action_id = action.get("action_id")
        if action_id not in LOOKUP_BUTTONS:
            return []
        value = _value(action.get("value"))
        if value is None:
            return []
        name = _ACTION_NAMES[action_id]
        if action_id == cards.ACTION_LOOKUP:
            return [Lookup(name, value.get("phone"))]  # the item's numbers, past the channel's budget
        phone = value.get("phone")
        if phone is None:
            return []
        if action_id == blocks.ACTION_SHARE and not (body.get("channel") or {}).get("id"):
            return []  # nowhere to share: the listener does nothing
        if LOOKUP_BUTTONS[action_id] and services.client.cache.get(phone) is not None:
            return []  # the card just shown: no request
        return [Lookup(name, phone)]
    if kind == "view_submission" and (body.get("view") or {}).get("callback_id") == modal.VERIFY_CALLBACK:
        return _verify_lookups(body.get("view") or {})
    if kind == "message_action" and body.get("callback_id") == blocks.SHORTCUT_CALLBACK:
        text = (body.get("message") or {}).get("text") or ""
        return [Lookup("lookup", n.number) for n in find_numbers(text)[:SHORTCUT_NUMBERS]]
    return []


def _command_lookups(text: str, services: Services) -> list[Lookup]:
    """``/caller``'s text as :mod:`bot.listeners.commands.caller` reads it: a number or (v2.1) an address."""
    text = text.strip()
    if not text or text.lower() in _HELP_WORDS or control_problem(text):
        return []
    if "@" in text and " " not in text:
        if getattr(services.client, "api_version", "v2") != "v2.1":
            return []
        try:
            check_email(text)
        except errors.UsageError:
            return []
        return [Lookup("lookup_email")]
    try:
        return [Lookup("lookup", parse(text).number)]
    except errors.InvalidPhoneError:
        return []  # a command word (watch, triage…) or not a number: refused with a reason, for nothing


def _verify_lookups(view: dict[str, Any]) -> list[Lookup]:
    """The Verify caller form looks its number up once its claims are well formed (else they are shown
    on the form for nothing: :mod:`bot.listeners.views.verify`)."""
    try:
        phone = parse(_metadata(view)["phone"]).number
    except (KeyError, TypeError, errors.InvalidPhoneError):
        return []
    typed = modal.verify_values(view)
    try:
        verify(
            [], name=typed.get("name"), zip_code=typed.get("zip"), email=typed.get("email"), street=typed.get("street")
        )
    except ValueError:  # InvalidClaim included: a malformed or empty claim
        return []
    return [Lookup("verify", phone)]


def _value(raw: Any) -> dict[str, Any] | None:
    """A button's value when it is ours (its number, if any, valid, as the 10 digits); else None."""
    try:
        value = json.loads(raw or "")
    except (TypeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    if "phone" in value:
        try:
            value = {**value, "phone": parse(value["phone"]).number}
        except (TypeError, errors.InvalidPhoneError):
            return None
    return value


def refused_numbers(context: Mapping[str, Any]) -> dict[str, str]:
    """The message shortcut's numbers the gate found over the asker's limit, with the sentence for each
    (the others were counted and are the listener's to look up)."""
    return dict(context.get(_REFUSED_NUMBERS) or {})


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

    First the policy, then, for a request that will look something up, the asker's
    per-minute limit.  Anything that has to travel after the ack (a private note for
    a button press, the App Home view) is sent from ``executor``, so the ack never
    waits on Slack.
    """

    def private(respond: Respond, text: str) -> None:
        executor.submit(_quietly, lambda: respond(response_type="ephemeral", replace_original=False, text=text))

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
            return gate_rate(body, context, respond, next_, services, who)
        text = messages.refusal(reason)
        if who.kind == "command":
            return _json({"response_type": "ephemeral", "text": text})
        if who.kind == "view":
            if body.get("type") == "view_closed":
                return BoltResponse(status=200, body="")
            view = body.get("view") or {}
            return _json({"response_action": "errors", "errors": {_first_input_block(view): text}})
        if who.kind in ("action", "shortcut") and body.get("response_url"):
            private(respond, text)
        elif who.kind == "event" and who.action == "app_home_opened" and who.user_id:
            user_id = who.user_id
            executor.submit(
                _quietly, lambda: services.web.views_publish(user_id=user_id, view=blocks.refused_home_view(text))
            )
        return BoltResponse(status=200, body="")

    def gate_rate(
        body: dict[str, Any],
        context: BoltContext,
        respond: Respond,
        next_: Callable[[], None],
        services: Services,
        who: Asker,
    ) -> BoltResponse | None:
        """Each lookup the request will make counted on the asker's limit; over it, refused here."""
        wanted = lookups(body, services)
        refused: dict[str, str] = {}  # number -> the sentence
        refusals = 0
        for lookup in wanted:
            sentence = rate_refusal(services, who.user_id, who.channel_id, lookup.action, lookup.phone)
            if sentence is None:
                continue
            refused[lookup.phone or ""] = sentence
            refusals += 1
            if who.kind != "shortcut":
                break  # one lookup per command or button
        if not refused:
            next_()
            return None
        if who.kind == "shortcut" and refusals < len(wanted):
            context[_REFUSED_NUMBERS] = refused  # some of the message's numbers still go: the listener skips these
            next_()
            return None
        sentence = next(iter(refused.values()))
        if who.kind == "command":
            return _json({"response_type": "ephemeral", "text": sentence})
        if who.kind == "view":  # on the form, which stays open: the agent can submit again in a minute
            return _json(
                {"response_action": "errors", "errors": {_first_input_block(body.get("view") or {}): sentence}}
            )
        if body.get("response_url"):
            private(respond, sentence)
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
