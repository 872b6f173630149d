"""Workflow Builder steps (Slack's custom functions, declared in manifest.yml's ``functions``).

Each is a ``function_executed`` event for its ``callback_id``; Bolt acks it, the
step runs on the listener pool and ends with ``functions.completeSuccess``
(its outputs) or ``functions.completeError`` (one sentence a workflow's author
reads).  The same policy, per-user limit, cache, pacing and audit as ``/caller``
(:mod:`._step`).
"""

from __future__ import annotations

from slack_bolt import App

from .fraud_check import FRAUD_CHECK, fraud_check
from .lookup_caller import LOOKUP_CALLER, lookup_caller
from .open_triage import OPEN_TRIAGE, open_triage

__all__ = ["register", "LOOKUP_CALLER", "FRAUD_CHECK", "OPEN_TRIAGE"]


def register(app: App) -> None:
    app.function(LOOKUP_CALLER)(lookup_caller)
    app.function(FRAUD_CHECK)(fraud_check)
    app.function(OPEN_TRIAGE)(open_triage)
