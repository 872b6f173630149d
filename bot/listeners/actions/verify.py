"""Verify caller (issue 26): open the form an agent types the caller's claims into.

On a ``/caller`` card the button carries the card's number; on a triage reply it is
per number, and counts only in the item's own channel, on the item's own reply (the
same check as every triage button: :func:`.triage._own_item`).  Opening the form
shows nothing of the record and looks nothing up: the comparison happens on submit
(:mod:`bot.listeners.views.verify`).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from ... import messages, modal
from ...services import services_from
from ._button import button_value, pressed_by
from .triage import _own_item, _press_of, _private


def _open(client: WebClient, body: dict[str, Any], respond: Respond, phone: str, channel_id: str | None) -> None:
    try:
        client.views_open(trigger_id=body["trigger_id"], view=modal.verify_modal(phone, channel_id))
    except (SlackClientError, KeyError):  # the trigger expired (3 s): the agent can simply press again
        _private(respond, messages.VERIFY_FORM_NOT_OPENED)


def verify_from_card(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    """Verify caller on a ``/caller`` card (private to whoever asked)."""
    ack()
    value = button_value(body)
    if not value:
        return
    _, channel_id = pressed_by(body)
    _open(client, body, respond, value["phone"], channel_id)


def verify_from_triage(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Verify caller on a triage reply, for one of the item's numbers."""
    ack()
    press = _press_of(body)
    if press is None or press.phone is None:
        return
    if _own_item(services_from(context), press, "verify", respond) is None:
        return
    _open(client, body, respond, press.phone, press.pressed_in)
