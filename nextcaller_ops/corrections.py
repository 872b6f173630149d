"""A correction, read → diff → send, once for the CLI, the notebook and the bot.

>>> plan = corrections.prepare(client, "97d949a413f4ea8b85e9586e1f2d9a", {"email": "jerry@example.com"})
>>> plan.to_send            # only what differs from the record (when the record is known)
>>> corrections.send(client, plan)

Input is checked before any request: a malformed id, an unknown field or a bad
value is a :class:`~nextcaller_ops.errors.UsageError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .correction_fields import build_correction, correction_view, flatten_correction
from .models import Profile, check_profile_id

if TYPE_CHECKING:
    from .client import NextCallerClient

__all__ = ["CorrectionPlan", "CorrectionOutcome", "prepare", "send", "describe_changes"]


@dataclass(frozen=True)
class CorrectionPlan:
    """What would be sent, and what the record holds now (when that is known)."""

    profile_id: str
    requested: dict[str, str]  # the fields asked for, dotted names, normalised
    to_send: dict[str, str]  # the fields that will be posted
    before: dict[str, str] | None = None  # the record's current values; None when not read
    unchanged: tuple[str, ...] = ()  # asked for, but the record already has these values

    @property
    def nothing_to_send(self) -> bool:
        return not self.to_send


@dataclass(frozen=True)
class CorrectionOutcome:
    plan: CorrectionPlan
    sent: dict[str, str] = field(default_factory=dict)  # what was posted (dotted names)

    @property
    def profile_id(self) -> str:
        return self.plan.profile_id

    @property
    def before(self) -> dict[str, str] | None:
        return self.plan.before


def prepare(
    client: NextCallerClient | None,
    profile_id: str,
    changes: Mapping[str, Any],
    *,
    compare: bool = True,
) -> CorrectionPlan:
    """Check the id and the fields, read the record when ``compare``, keep only real changes.

    ``client`` may be None when ``compare`` is False: nothing is read, and the
    fields are sent as given (after validation).
    """
    pid = check_profile_id(profile_id)
    requested = flatten_correction(build_correction(changes))  # refuses unknown fields and bad values
    if not compare or client is None:
        return CorrectionPlan(pid, requested, dict(requested))
    current = correction_view(_current_record(client, pid))
    to_send = {k: v for k, v in requested.items() if v != current.get(k, "")}
    unchanged = tuple(k for k in requested if k not in to_send)
    return CorrectionPlan(pid, requested, to_send, before=current, unchanged=unchanged)


def _current_record(client: NextCallerClient, profile_id: str) -> Profile:
    return client.get_profile(profile_id)


def send(client: NextCallerClient, plan: CorrectionPlan, *, idempotency_key: str | None = None) -> CorrectionOutcome:
    """POST the plan's fields (nothing when there is nothing to send)."""
    if plan.nothing_to_send:
        return CorrectionOutcome(plan)
    body = client.update_profile(plan.profile_id, plan.to_send, idempotency_key=idempotency_key)
    return CorrectionOutcome(plan, flatten_correction(body))


def describe_changes(outcome: CorrectionOutcome) -> list[tuple[str, str | None, str]]:
    """``(field, old or None, new)`` for each field sent, in the order sent."""
    before = outcome.before
    return [(name, before.get(name) if before is not None else None, value) for name, value in outcome.sent.items()]
