"""The outgoing webhooks' outbox: one row per event and receiver, and the interface its stores keep.

Rows are written when something happens (a lookup, a triage item claimed …) and
delivered later by a worker (:mod:`nextcaller_ops.webhooks`), so nothing that
emits ever waits on a receiver.  Each receiver's rows go out in the order they
were written: only the oldest undelivered row of a receiver may be claimed, so a
``triage.claimed`` never overtakes the ``triage.opened`` before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .person import Person

__all__ = ["WebhookDelivery", "WebhookOutboxStore", "WAITING", "SENDING", "SENT", "GAVE_UP"]

# pending -> sending (leased) -> sent | gave up, or back to pending when the receiver could not take it.
WAITING, SENDING, SENT, GAVE_UP = "pending", "sending", "sent", "gave up"


@dataclass(frozen=True)
class WebhookDelivery:
    """One event on its way to one receiver."""

    id: int
    event_id: str  # the webhook-id header: the same on every attempt, so a receiver can drop repeats
    type: str
    url: str
    body: str  # the JSON exactly as signed
    created: float
    status: str
    attempts: int
    last_error: str


class WebhookOutboxStore(Protocol):
    """SQLite (:mod:`.sqlite_webhooks`) or PostgreSQL (:mod:`.postgres_webhooks`)."""

    def enqueue(self, event_id: str, type_: str, urls: list[str], body: str, *, now: float) -> None:
        """One row per receiver, written together."""

    def claim(self, *, now: float, lease_seconds: float) -> WebhookDelivery | None:
        """The oldest row of some receiver, when it is due (or its lease ran out); leased, its attempt counted."""

    def finish(self, row: WebhookDelivery, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        """How the attempt ended; only the attempt holding the lease (fenced on ``attempts``)."""

    def counts(self) -> dict[str, int]: ...

    def purge(self, before: float) -> int:
        """Forget rows sent (or given up) before ``before``."""

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete every row whose body (or last error) holds ``person``, whatever its status; how many.

        A row being sent is deleted too: its worker's ``finish`` then updates nothing.
        """

    def close(self) -> None: ...
