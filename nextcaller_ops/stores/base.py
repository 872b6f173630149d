"""The small interfaces the bot's durable state sits behind.

Each is a :class:`typing.Protocol`: :mod:`.sqlite` (embedded, the default) and
:mod:`.postgres` (shared by many processes) implement the same methods.
Callers hold one of these, never a connection: :func:`nextcaller_ops.stores.open_stores`
is the one place that picks the implementation.

Triage channels keep their state in a :class:`TriageStore` (watched channels, the
messages replied to, sightings, claims).

Times are wall-clock seconds (``time.time()``).  The outbox store is handed
``now`` by its caller, so a worker's clock (a fake one in tests) decides what is
due and when a lease has run out; the audit and de-duplication stores keep a clock
of their own.

Nothing is deleted when a store opens or is read: each ``purge`` is called by the
running bot's retention (``bot.retention``, one setting per store) or, for the
audit log, by an explicit ``nextcaller-ops audit purge --older-than``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from ..errors import Action, NextCallerError
from .person import Person

__all__ = [
    "StoreUnavailableError",
    "AuditEntry",
    "AuditStore",
    "Correction",
    "OutboxStore",
    "DedupeStore",
    "PENDING",
    "DELIVERING",
    "DELIVERED",
    "REJECTED",
    "TriageItem",
    "OpenItem",
    "Snooze",
    "FlagSeen",
    "TriageStore",
]


class StoreUnavailableError(NextCallerError):
    """A shared store (PostgreSQL) could not be reached or used; the message never holds its URL."""

    action = Action.RETRY_LATER


class AuditEntry(TypedDict):
    ts: float
    user_id: str | None
    channel_id: str | None
    action: str
    phone: str | None  # the full number: the audit log answers "who looked this number up?"
    outcome: str
    detail: str | None


class AuditStore(Protocol):
    """Who looked up which number, where, when, with what outcome."""

    def record(
        self,
        *,
        user_id: str | None,
        channel_id: str | None,
        action: str,
        phone: str | None,
        outcome: str,
        detail: str = "",
    ) -> None: ...

    def recent(self, user_id: str, limit: int = 5) -> list[AuditEntry]:
        """The user's latest lookups and refreshes, newest first."""
        ...

    def entries(
        self, *, since: float | None = None, user_id: str | None = None, phone: str | None = None
    ) -> list[AuditEntry]:
        """Every entry (or those at/after ``since``, by ``user_id``, for ``phone``), oldest first."""
        ...

    def purge(self, before: float) -> int:
        """Delete the entries stamped before ``before``; returns how many.

        Only the running bot's retention (``bot.retention``) and ``nextcaller-ops audit
        purge`` call this: opening or reading the log never deletes from it.
        """
        ...

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete the entries whose phone is ``person``'s or whose detail mentions them (``apply=False``:
        only count); forget records themselves (action ``forget``, a keyed hash) stay."""
        ...

    def close(self) -> None: ...


# The life of a queued correction: pending -> delivering (leased) -> delivered | rejected,
# or back to pending when the API could not take it yet.
PENDING, DELIVERING, DELIVERED, REJECTED = "pending", "delivering", "delivered", "rejected"


@dataclass(frozen=True)
class Correction:
    """One row of the outbox: a correction an agent submitted, and how its delivery stands."""

    id: int
    key: str  # the idempotency key sent with every attempt
    profile_id: str
    body: dict[str, Any]  # the agent's changes under dotted names, as build_correction takes them
    user_id: str | None
    channel_id: str | None
    status: str
    attempts: int
    last_error: str


class OutboxStore(Protocol):
    """The durable half of the corrections outbox: rows, leases and outcomes (no delivery)."""

    def submit(
        self,
        profile_id: str,
        body: dict[str, Any],
        *,
        now: float,
        user_id: str | None = None,
        channel_id: str | None = None,
        dedupe_key: str | None = None,
        due: float | None = None,
    ) -> tuple[Correction, bool]:
        """Store a correction, due at ``due`` (default: at once); (row, created).

        A repeated ``dedupe_key`` is the same row.  A row claimed by id (``claim(row_id)``)
        is taken whatever its due time: the submitter's own first attempt.
        """
        ...

    def claim(self, row_id: int | None, *, now: float, lease_seconds: float) -> Correction | None:
        """Lease one row for delivery (``row_id``, or the oldest due one) and count the attempt.

        A row is claimable when pending and due, or when it is being delivered under a
        lease that has run out (its worker was cut off).  Two claimers never get the same
        row under the same lease.  None when there is nothing to take.
        """
        ...

    def renew(self, row: Correction, *, now: float, lease_seconds: float) -> bool:
        """Extend the lease of a claimed ``row`` (a long delivery); False when it was taken over meanwhile."""
        ...

    def finish(self, row: Correction, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        """Record how an attempt ended and release the lease; a pending row is due at ``next_attempt``.

        ``row`` is the one :meth:`claim` returned: a finish from an attempt whose lease
        was taken over by another claimer (its ``attempts`` is no longer the row's)
        changes nothing.
        """
        ...

    def get(self, row_id: int) -> Correction | None: ...

    def counts(self) -> dict[str, int]:
        """``{"pending": n, "delivered": n, "rejected": n}``; rows being delivered count as pending."""
        ...

    def recover(self) -> int:
        """Make rows a previous owner left mid-delivery due again; returns how many.

        With a store one process owns (SQLite) that is every row still marked
        delivering when it opens; a store shared by live processes leaves such rows
        to their leases (:meth:`claim` takes them over) and returns 0.
        """
        ...

    def purge(self, before: float) -> int:
        """Forget delivered and refused corrections submitted before ``before``; returns how many.

        Their bodies are an agent's changes to a person's record (personal data).  Rows
        still waiting or being delivered are kept, however old: nothing submitted is lost.
        """
        ...

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Rows holding ``person`` (profile id, body, error): finished ones deleted, waiting ones
        cancelled (status ``cancelled``, body emptied) for the bot to tell their agents; how many."""
        ...

    def cancelled(self) -> list[Correction]:
        """Rows a forget cancelled whose agents the running bot has still to tell."""
        ...

    def drop(self, row_id: int) -> None:
        """Delete one row (a cancelled one, once its agent was told)."""
        ...

    def close(self) -> None: ...


class DedupeStore(Protocol):
    """ "Have we handled this already?" across retries and processes (Slack retries, events)."""

    def claim(self, key: str) -> bool:
        """True the first time ``key`` is seen (within the store's TTL), False afterwards.

        One atomic insert: of any number of concurrent callers, exactly one gets True.
        """
        ...

    def purge(self) -> int:
        """Forget keys older than the TTL (by the store's clock); returns how many.  Opening never purges."""
        ...

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete the keys that hold ``person`` (``apply=False``: only count)."""
        ...

    def close(self) -> None: ...


# -- triage channels -----------------------------------------------------------------------

# Where the lookups of a watched message stand: being done (leased), done, waiting to retry after an
# API failure, paused by the channel's budget (due again shortly), or given up.
NEW, DONE, RETRY, PAUSED, GAVE_UP = "new", "done", "retry", "paused", "gave_up"
# What people do with an item: each sets who and when, at most once (claim until released).
CLAIM, RELEASE, RESOLVE, FLAG = "claim", "release", "resolve", "flag"
# What an item's life adds (issue 26): snoozed until a time, dropped with a reason, reopened once done.
SNOOZE, DROP, REOPEN = "snooze", "drop", "reopen"
DROP_REASONS = ("noise", "duplicate", "internal number", "test call")


@dataclass(frozen=True)
class TriageItem:
    """One message in a watched channel that carried numbers, its threaded reply, and who did what."""

    channel_id: str
    message_ts: str
    thread_ts: str  # where the reply goes (the message itself, or the thread it was posted in)
    poster: str | None  # a user id, or an integration's bot id
    numbers: list[str]
    created: float
    stage: str = NEW
    attempts: int = 0
    reply_ts: str | None = None
    cards: list[dict[str, Any]] | None = None  # the reply's rendered cards, as last posted
    summary: str = ""  # one line for `/caller triage`
    claimed_by: str | None = None
    claimed_at: float | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None
    flagged_by: str | None = None
    flagged_at: float | None = None
    # Who holds the item's lease: a token the store draws at each add / lease / take_due.  Every write
    # a worker makes names it, so the writes of a worker whose lease was taken over change nothing.
    lease_id: str | None = None
    posting_at: float | None = None  # a post of the reply was started (its ts may never have been saved)
    shown_digest: str | None = None  # what the reply at reply_ts was last drawn with (unchanged: not redrawn)
    snoozed_by: str | None = None
    snoozed_until: float | None = None
    dropped_by: str | None = None
    dropped_at: float | None = None
    drop_reason: str | None = None
    reminded_at: float | None = None  # the claimer was nudged (once per claim)

    @property
    def done(self) -> bool:
        """Resolved or dropped: only Reopen (and Flag fraud) still apply."""
        return self.resolved_at is not None or self.dropped_at is not None


@dataclass(frozen=True)
class FlagSeen:
    """An item with a number that someone flagged as fraud: where, which message, who, when (issue 26)."""

    channel_id: str
    message_ts: str
    flagged_by: str | None
    flagged_at: float


@dataclass(frozen=True)
class Snooze:
    """A number snoozed in a channel: who snoozed it, until when, on which item."""

    channel_id: str
    phone: str
    until: float
    by: str | None
    message_ts: str


@dataclass(frozen=True)
class OpenItem:
    """What `/caller triage` shows of an open item: when, which numbers, the summary, who did what."""

    message_ts: str
    created: float
    numbers: list[str]
    summary: str
    claimed_by: str | None = None
    claimed_at: float | None = None
    flagged_by: str | None = None
    flagged_at: float | None = None
    resolved_by: str | None = None  # always None: open items are the unresolved ones
    resolved_at: float | None = None
    dropped_by: str | None = None  # always None too: a dropped item is not open
    dropped_at: float | None = None
    drop_reason: str | None = None
    snoozed_by: str | None = None
    snoozed_until: float | None = None


class TriageStore(Protocol):
    """Watched channels, the messages the bot replied to, how often a number was seen, and item state.

    Every method is one or two plain SQL statements (INSERT … ON CONFLICT DO NOTHING, conditional
    UPDATE, SELECT): any SQL database implements it the same way.  Each change that two people
    or two processes could race on is a single conditional statement: exactly one wins.
    """

    def watch_state(self, channel_id: str) -> bool | None:
        """On or off as an admin last set it; None when nobody has (the settings decide)."""
        ...

    def set_watch(self, channel_id: str, on: bool, *, by: str | None, now: float) -> None: ...

    def add(self, item: TriageItem, *, lease_seconds: float) -> TriageItem | None:
        """Store a new item, leased to the caller (the item returned carries the lease's ``lease_id``);
        None when that message (channel + ts) is already known."""
        ...

    def sighted(self, channel_id: str, phone: str, message_ts: str, now: float) -> None:
        """Note ``phone`` seen in ``channel_id`` (once per message)."""
        ...

    def sightings(self, channel_id: str, phone: str, since: float) -> int:
        """How many messages in ``channel_id`` carried ``phone`` at or after ``since``."""
        ...

    def get(self, channel_id: str, message_ts: str) -> TriageItem | None: ...

    def take_due(self, *, now: float, lease_seconds: float, limit: int = 20) -> list[TriageItem]:
        """Lease items whose lookups are due again (retry, paused, or a lease that ran out).

        Fair across channels: each channel's oldest due item comes before any channel's second,
        so one channel's thousand paused items never hold another's back.
        """
        ...

    def lease(self, channel_id: str, message_ts: str, *, now: float, lease_seconds: float) -> TriageItem | None:
        """Lease one item now (a person pressed Look up); None when someone else holds it."""
        ...

    # Each write below is fenced on ``item.lease_id``: False (and nothing changed) once another
    # worker has taken the item over, or the lease was given back by :meth:`finish`.
    def renew(self, item: TriageItem, *, now: float, lease_seconds: float) -> bool:
        """Extend the lease ``item`` was taken under (lookups outlasting it are not a dead worker)."""
        ...

    def save_reply(self, item: TriageItem, *, cards: list[dict[str, Any]], summary: str) -> bool:
        """Keep the reply's cards (before posting them: a button pressed at once re-draws from here)."""
        ...

    def mark_posting(self, item: TriageItem, *, now: float) -> bool:
        """Note that the reply is about to be posted: a taker finding this without a ``reply_ts``
        looks in the thread before posting (the post may have landed, its ts never saved)."""
        ...

    def save_reply_ts(self, item: TriageItem, reply_ts: str) -> bool:
        """The reply's ts, once Slack has it (or once it was found in the thread)."""
        ...

    def save_shown(self, channel_id: str, message_ts: str, *, reply_ts: str, digest: str) -> None:
        """What the reply ``reply_ts`` was just drawn with (not fenced: a button's redraw records it too)."""
        ...

    def finish(self, item: TriageItem, *, stage: str, next_attempt: float) -> bool:
        """Record how the attempt went (counting it), when to try again, and give the lease back."""
        ...

    def act(self, channel_id: str, message_ts: str, action: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        """Claim, release, resolve or flag; (the item afterwards, whether this call changed it).

        Claim takes an unclaimed item (not resolved or dropped); release gives back one
        ``user_id`` holds; resolve and flag happen once.  Raises KeyError for an unknown item.
        """
        ...

    def snooze(
        self, channel_id: str, message_ts: str, user_id: str, now: float, until: float
    ) -> tuple[TriageItem, bool]:
        """Snooze an item that is not resolved or dropped, and each of its numbers in its channel, until
        ``until`` (a later snooze replaces it).  Raises KeyError for an unknown item."""
        ...

    def drop(self, channel_id: str, message_ts: str, user_id: str, now: float, reason: str) -> tuple[TriageItem, bool]:
        """Drop an item that is not resolved or dropped, with a reason (one of DROP_REASONS)."""
        ...

    def reopen(self, channel_id: str, message_ts: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        """Open again an item that was resolved or dropped (unclaimed: back in the queue)."""
        ...

    def snoozed(self, channel_id: str, phone: str, now: float) -> Snooze | None:
        """The snooze in force on ``phone`` in ``channel_id`` at ``now``, if any."""
        ...

    def flags_of(self, phone: str, since: float, limit: int = 5) -> list[FlagSeen]:
        """Items in any channel carrying ``phone`` that were flagged as fraud at or after ``since``, latest first."""
        ...

    def seen_by_channel(self, phone: str, since: float) -> dict[str, int]:
        """How many messages carried ``phone`` at or after ``since``, per watched channel."""
        ...

    # Timers (issue 26): kept in the rows themselves, so they survive restarts; each fires through one
    # conditional UPDATE, so of any number of processes exactly one fires it.
    def claims_due(self, *, remind_before: float, release_before: float, limit: int = 50) -> list[TriageItem]:
        """Claimed open items whose claim is older than ``release_before``, or older than ``remind_before``
        and not reminded yet; the oldest claims first."""
        ...

    def claim_reminder(self, item: TriageItem, *, now: float) -> bool:
        """Mark ``item``'s claim reminded, once: False when another process did, or the claim changed."""
        ...

    def release_claim(self, item: TriageItem) -> bool:
        """Release ``item``'s claim as it was read (same person, same time), once; False otherwise."""
        ...

    # The digest (issue 26)
    def watched_channels(self) -> list[str]:
        """Channels an admin turned watching on (the settings' list is the caller's to add)."""
        ...

    def activity(self, channel_id: str, since: float) -> dict[str, int]:
        """``{"opened", "claimed", "resolved", "dropped", "flagged": n}`` in ``channel_id`` at or after ``since``."""
        ...

    def repeat_callers(self, channel_id: str | None, since: float, limit: int = 5) -> list[tuple[str, int]]:
        """Numbers seen in two messages or more in ``channel_id`` (None: every watched channel) since ``since``:
        (phone, times), most first."""
        ...

    def recent_flags(self, since: float, limit: int = 10) -> list[FlagSeen]:
        """Items flagged as fraud at or after ``since`` in any channel, latest first."""
        ...

    def snoozes(self, now: float, limit: int = 20) -> list[Snooze]:
        """Snoozes in force at ``now`` in any channel, ending soonest first."""
        ...

    def take_digest_slot(self, channel_id: str, slot: str) -> tuple[bool, float | None]:
        """Take the scheduled digest ``slot`` of ``channel_id`` (once across processes): (taken, when a digest
        was last posted there)."""
        ...

    def digest_posted(self, channel_id: str, slot: str, now: float) -> None:
        """A digest was posted for ``channel_id`` now: the next one counts from here."""
        ...

    def open_items(self, channel_id: str, since: float) -> list[TriageItem]:
        """Items of ``channel_id`` created at or after ``since`` and not resolved, oldest first."""
        ...

    def open_summary(self, channel_id: str, since: float, limit: int) -> tuple[list[OpenItem], int]:
        """The oldest ``limit`` open items (as :meth:`open_items`, only what a list shows), and how many
        are open in all: two bounded statements, however many items there are."""
        ...

    def purge(self, before: float) -> int:
        """Forget items and sightings older than ``before``; returns how many items."""
        ...

    def forget(self, person: Person, *, apply: bool = True) -> tuple[int, int]:
        """(items, sightings) holding ``person``, removed; an item with a reply in Slack is emptied and
        kept as a ``redact`` job (:meth:`redactions`) until the bot has edited that reply."""
        ...

    def redactions(self, limit: int = 50) -> list[TriageItem]: ...

    def redacted(self, channel_id: str, message_ts: str) -> None: ...

    def close(self) -> None: ...
