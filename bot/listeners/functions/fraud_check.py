"""*Fraud check* (API v2.1): a number's ``fraud_risk`` and ``spoofed`` as a step's outputs.

On API v2 the step completes with an error saying it needs v2.1, and makes no call.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Complete, Fail

from nextcaller_ops import errors
from nextcaller_ops.audit import asking

from ... import messages
from ...services import services_from
from ._step import log_run, phone_of, plain, refusal, step_of

__all__ = ["FRAUD_CHECK", "fraud_check"]

FRAUD_CHECK = "nc_fraud_check"
ACTION = "workflow_fraud"


def fraud_check(
    inputs: dict[str, Any], event: dict[str, Any], complete: Complete, fail: Fail, context: BoltContext
) -> None:
    services = services_from(context)
    step = step_of(inputs, event)
    if getattr(services.client, "api_version", "v2") != "v2.1":
        log_run(ACTION, step, "needs v2.1")
        fail(plain(messages.needs_v21("the fraud check step")))
        return
    phone, problem = phone_of(step)
    if phone is None:
        log_run(ACTION, step, "bad number")
        fail(problem or "")
        return
    refused = refusal(services, step, ACTION, phone.number)
    if refused:
        log_run(ACTION, step, "refused")
        fail(refused)
        return
    try:
        with asking(user_id=step.user_id, channel_id=step.channel_id, action=ACTION):
            level = services.client.fraud_level(phone)
    except errors.NextCallerError as exc:
        log_run(ACTION, step, f"error {type(exc).__name__}")
        fail(plain(messages.error_text(exc)))
        return
    log_run(ACTION, step, f"risk {level.fraud_risk or 'unknown'}")
    complete(outputs={"fraud_risk": level.fraud_risk or "unknown", "spoofed": level.spoofed or "unknown"})
