"""What every workflow step shares: who runs it, where, the policy and the per-user limit, the words.

A workflow's step is nobody's click: who it runs for and in which channel are
the step's optional ``user_id`` and ``channel_id`` inputs (Workflow Builder's
"Person who used this workflow" and "Channel where the workflow was used").
The policy is asked as for ``/caller`` (an allow-list with nobody named refuses),
and a lookup counts on that person's per-minute limit.  Audit rows name the step
(``workflow_lookup``, ``workflow_fraud``, ``workflow_triage``); the log line names
the workflow's run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nextcaller_ops import errors
from nextcaller_ops.api.phone import PhoneInput, parse
from nextcaller_ops.api.text import control_problem

from ... import messages
from ...gate import Asker, rate_refusal, refuse
from ...services import Services

__all__ = ["Step", "step_of", "plain"]

log = logging.getLogger("bot.functions")

NO_PHONE = "The step needs a phone number: map the 'phone' input to a 10-digit US number."


@dataclass(frozen=True)
class Step:
    """One run of a step: its inputs, who it runs for, where, and the workflow run it belongs to."""

    inputs: dict[str, Any]
    user_id: str | None
    channel_id: str | None
    workflow_run: str

    def text(self, name: str) -> str:
        value = self.inputs.get(name)
        return value.strip() if isinstance(value, str) else ""


def step_of(inputs: dict[str, Any] | None, event: dict[str, Any] | None) -> Step:
    inputs = inputs if isinstance(inputs, dict) else {}
    event = event if isinstance(event, dict) else {}
    user, channel = inputs.get("user_id"), inputs.get("channel_id")
    return Step(
        inputs=inputs,
        user_id=user if isinstance(user, str) and user else None,
        channel_id=channel if isinstance(channel, str) and channel else None,
        workflow_run=str(event.get("workflow_execution_id") or "?"),
    )


def plain(text: str) -> str:
    """A bot sentence as Workflow Builder shows an error: plain text, not Slack's escaped mrkdwn."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("`", "")


def phone_of(step: Step) -> tuple[PhoneInput | None, str | None]:
    """The step's ``phone`` input as a number, or the sentence saying what is wrong with it (no API call)."""
    text = step.text("phone")
    if not text:
        return None, NO_PHONE
    problem = control_problem(text)
    if problem:
        return None, plain(messages.bad_text(problem))
    try:
        return parse(text), None
    except errors.InvalidPhoneError as exc:
        return None, f"{exc.message[:1].upper()}{exc.message[1:]}: the step needs a 10-digit US number."


def refusal(services: Services, step: Step, action: str, phone: str | None, *, lookup: bool = True) -> str | None:
    """The policy's refusal, then (for a lookup) the per-user limit's: one sentence, audited; None when allowed."""
    reason = refuse(services, Asker("workflow", action, step.user_id, step.channel_id, phone))
    if reason is not None:
        return plain(messages.refusal(reason))
    if lookup:
        over = rate_refusal(services, step.user_id, step.channel_id, action, phone)
        if over:
            return plain(over)
    return None


def log_run(action: str, step: Step, outcome: str) -> None:
    log.info(
        "workflow step %s (run %s) for %s in %s: %s", action, step.workflow_run, step.user_id, step.channel_id, outcome
    )
