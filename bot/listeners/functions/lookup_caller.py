"""*Look up caller*: a number's record as a step's outputs (``found``, ``name``, ``carrier`` …).

No record completes with an error (a workflow's next steps would otherwise read
empty outputs), as do a bad number, a refusal and an API error.  On API v2.1 the
outputs add ``line_type`` and ``spoofed``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Complete, Fail

from nextcaller_ops.api.models import LookupResult

from ...answers import lookup_answer
from ...services import services_from
from ._step import log_run, phone_of, plain, refusal, step_of

__all__ = ["LOOKUP_CALLER", "lookup_caller", "outputs_of"]

LOOKUP_CALLER = "nc_lookup_caller"
ACTION = "workflow_lookup"


def outputs_of(result: LookupResult, *, v21: bool) -> dict[str, Any]:
    """The step's outputs from the first record (``record_count`` says how many there were)."""
    first = result.profiles[0]
    address = first.addresses[0] if first.addresses else None
    threats = [p.fraud_threat for p in result.profiles if p.fraud_threat]
    outputs: dict[str, Any] = {
        "found": True,
        "name": first.display_name,
        "carrier": first.carrier,
        "fraud_threat": threats[0] if threats else "",
        "city": address.city if address else "",
        "state": address.state if address else "",
        "record_count": len(result.profiles),
    }
    if v21:
        outputs.update(line_type=first.line_type, spoofed=first.spoof)
    return outputs


def lookup_caller(
    inputs: dict[str, Any], event: dict[str, Any], complete: Complete, fail: Fail, context: BoltContext
) -> None:
    services = services_from(context)
    step = step_of(inputs, event)
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
    answer = lookup_answer(services, phone, user_id=step.user_id, channel_id=step.channel_id, action=ACTION)
    result = answer.result
    if result is None:  # the API failed: the answer is its sentence
        log_run(ACTION, step, "error")
        fail(plain(answer.text))
    elif not result.found:
        log_run(ACTION, step, "no record")
        fail(plain(answer.text))
    else:
        log_run(ACTION, step, f"found {len(result.profiles)}")
        complete(outputs=outputs_of(result, v21=getattr(services.client, "api_version", "v2") == "v2.1"))
