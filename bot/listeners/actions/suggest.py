"""Suggest correction: open the correction modal, prefilled with the record as the card showed it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse
from nextcaller_ops.audit import asking

from ... import messages, modal
from ...answers import error_answer
from ...services import services_from
from ._button import button_value, pressed_by


def open_correction_modal(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    ack()
    value = button_value(body)
    user_id, channel_id = pressed_by(body)
    if not value:
        return
    services = services_from(context)
    phone = parse(value["phone"])
    try:
        # From the cache: the trigger_id is only good for 3 seconds.  Audited below, once the form is open.
        with asking(user_id=user_id, channel_id=channel_id, action="suggest", audited=False):
            result = services.client.lookup(phone)
    except errors.NextCallerError as exc:
        respond(response_type="ephemeral", replace_original=False, text=error_answer(exc, "modal").text)
        return
    profile = next((p for p in result.profiles if p.id == value.get("id")), None)
    if profile is None:
        respond(response_type="ephemeral", replace_original=False, text=messages.RECORD_CHANGED)
        return
    try:
        client.views_open(
            trigger_id=body["trigger_id"], view=modal.correction_modal(profile, value["phone"], channel_id)
        )
    except SlackClientError:  # e.g. the trigger expired (3 s): the agent can simply press again
        respond(response_type="ephemeral", replace_original=False, text=messages.FORM_NOT_OPENED)
        return
    # The form shows the whole record: whoever opened it is in the audit log, as for a lookup.
    services.audit.record(
        user_id=user_id, channel_id=channel_id, action="suggest", phone=phone.number, outcome="form opened"
    )
