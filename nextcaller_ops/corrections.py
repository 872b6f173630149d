"""A correction, read → diff → send, once for the CLI, the notebook and the bot.

>>> plan = corrections.prepare(client, "97d949a413f4ea8b85e9586e1f2d9a", {"email": "jerry@example.com"})
>>> plan.to_send            # only what differs from the record (when the record is known)
>>> corrections.send(client, plan)

The API v2 document offers only ``POST /v2/users/ID/``: there is no way to read
a profile by its id.  So the record's current values come from the lookup
cache (a number looked up a moment ago holds the record), else from
``GET users/ID/`` where the API version offers it (``client.can_read_profile``),
else they are unknown and the fields are sent as given (``plan.record_source``
is None, and each surface says so).

Values are compared normalised (``(212)555-8383`` is ``2125558383``, ``ny`` is
``NY``, spaces and e-mail case do not count), so a correction that changes
nothing is not sent.

Input is checked before any request: a malformed id, an unknown field or a bad
value is a :class:`~nextcaller_ops.errors.UsageError` naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .api.correction_fields import build_correction, correction_view, flatten_correction
from .api.models import Profile, check_profile_id
from .api.phone import parse
from .errors import InvalidPhoneError

if TYPE_CHECKING:
    from .client.client import NextCallerClient

__all__ = ["CorrectionPlan", "CorrectionOutcome", "prepare", "send", "describe_changes", "same_value"]

# Where the record's current values came from.
FROM_CACHE = "cache"
FROM_API = "api"


@dataclass(frozen=True)
class CorrectionPlan:
    """What would be sent, and what the record holds now (when that is known)."""

    profile_id: str
    requested: dict[str, str]  # the fields asked for, dotted names, normalised
    to_send: dict[str, str]  # the fields that will be posted
    before: dict[str, str] | None = None  # the record's current values; None when not known
    unchanged: tuple[str, ...] = ()  # asked for, but the record already has these values
    record_source: str | None = None  # "cache", "api", or None when the record was not read

    @property
    def nothing_to_send(self) -> bool:
        return not self.to_send

    @property
    def record_known(self) -> bool:
        return self.before is not None


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
    """Check the id and the fields; when ``compare``, find the current record and keep only real changes.

    ``client`` may be None when ``compare`` is False: nothing is read, and the
    fields are sent as given (after validation).  Finding the record costs no
    request unless the API version can read a profile by id.
    """
    pid = check_profile_id(profile_id)
    requested = flatten_correction(build_correction(changes))  # refuses unknown fields and bad values
    if not compare or client is None:
        return CorrectionPlan(pid, requested, dict(requested))
    record, source = current_record(client, pid)
    if record is None:
        return CorrectionPlan(pid, requested, dict(requested))
    current = correction_view(record)
    to_send = {k: v for k, v in requested.items() if not same_value(k, v, current.get(k, ""))}
    unchanged = tuple(k for k in requested if k not in to_send)
    return CorrectionPlan(pid, requested, to_send, before=current, unchanged=unchanged, record_source=source)


def current_record(client: NextCallerClient, profile_id: str) -> tuple[Profile | None, str | None]:
    """The record with this id and where it came from: the lookup cache, the API, or nowhere."""
    find = getattr(client.cache, "find_profile", None)  # a cache without the method just misses
    cached = find(profile_id) if find is not None else None
    if cached is not None:
        return cached, FROM_CACHE
    if getattr(client, "can_read_profile", False):
        return client.get_profile(profile_id), FROM_API
    return None, None


def same_value(name: str, new: str, old: str) -> bool:
    """Whether two values of field ``name`` mean the same once normalised."""
    return _normalised(name, new) == _normalised(name, old)


def _normalised(name: str, value: Any) -> str:
    text = re.sub(r"\s+", " ", "" if value is None else str(value)).strip()
    leaf = name.rsplit(".", 1)[-1]
    if leaf.startswith("phone") and text:
        try:
            return parse(text).number
        except InvalidPhoneError:
            return text
    if leaf in ("state", "zip_code", "email"):
        return text.upper()
    return text


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
