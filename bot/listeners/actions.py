"""Card buttons: Suggest correction (opens the modal), Share in channel, Refresh."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nextcaller_ops import errors
from nextcaller_ops.phone import parse
from nextcaller_ops.redact import mask_phone

from .. import blocks
from .common import error_answer, gate, lookup_answer

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from ..app import Services

log = logging.getLogger("bot")


def _value(body: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(body["actions"][0]["value"])
        parse(value["phone"])  # buttons carry our own JSON, but a forged payload must not reach the API
        return value
    except (KeyError, IndexError, TypeError, ValueError, errors.InvalidPhoneError):
        return {}


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    return (body.get("user") or {}).get("id"), (body.get("channel") or {}).get("id")


def register(app: App, services: Services) -> None:
    @app.action(blocks.ACTION_REFRESH)
    def refresh(ack: Callable[..., None], body: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        value = _value(body)
        user_id, channel_id = _where(body)
        if not value:
            return
        phone = parse(value["phone"])
        refusal = gate(services, user_id, channel_id, "refresh", phone.number)
        answer = refusal or lookup_answer(
            services, phone, user_id=user_id, channel_id=channel_id, action="refresh", refresh=True
        )
        respond(replace_original=True, response_type="ephemeral", text=answer.text, blocks=answer.blocks)

    @app.action(blocks.ACTION_SHARE)
    def share(ack: Callable[..., None], body: dict[str, Any], respond: Callable[..., Any], client: WebClient) -> None:
        ack()
        value = _value(body)
        user_id, channel_id = _where(body)
        if not value or not channel_id:
            return
        phone = parse(value["phone"])
        refusal = services.policy.refusal(user_id, channel_id)
        if refusal:
            respond(response_type="ephemeral", replace_original=False, text=refusal)
            return
        try:
            result = services.client.lookup(phone)  # the card was just shown: the cache has it
        except errors.NextCallerError as exc:
            answer = error_answer(exc, "share")
            respond(response_type="ephemeral", replace_original=False, text=answer.text)
            return
        redact = services.policy.redact_shared(channel_id)
        shown = [p for p in result.profiles if p.id == value.get("id")] or list(result.profiles)
        client.chat_postMessage(
            channel=channel_id,
            text=blocks.card_text(shown, mask_phone(phone.number) if redact else phone.number),
            blocks=blocks.profile_cards(shown, phone.number, redact=redact, buttons=False, shared_by=user_id),
        )
        services.audit.record(
            user_id=user_id,
            channel_id=channel_id,
            action="share",
            phone=phone.number,
            outcome="redacted" if redact else "full",
        )
        respond(
            response_type="ephemeral",
            replace_original=False,
            text="Shared in the channel" + (" (email and street hidden)." if redact else "."),
        )

    @app.action(blocks.ACTION_SUGGEST)
    def suggest(ack: Callable[..., None], body: dict[str, Any], client: WebClient, respond: Callable[..., Any]) -> None:
        ack()
        value = _value(body)
        user_id, channel_id = _where(body)
        if not value:
            return
        refusal = services.policy.refusal(user_id, channel_id)
        if refusal:
            respond(response_type="ephemeral", replace_original=False, text=refusal)
            return
        try:
            # From the cache: the trigger_id is only good for 3 seconds.
            result = services.client.lookup(parse(value["phone"]))
        except errors.NextCallerError as exc:
            respond(response_type="ephemeral", replace_original=False, text=error_answer(exc, "modal").text)
            return
        profile = next((p for p in result.profiles if p.id == value.get("id")), None)
        if profile is None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That record has changed since the card was shown; press Refresh and try again.",
            )
            return
        client.views_open(
            trigger_id=body["trigger_id"], view=blocks.correction_modal(profile, value["phone"], channel_id)
        )
