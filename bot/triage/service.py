"""Triage channels: watching, one threaded reply per message, lookups within a budget, claims.

:class:`Triage` is built once per process (:mod:`bot.services`).  The message
listener hands it each message worth answering (:meth:`Triage.handle`): the first
delivery of a message claims it in the store (so a Slack retry, or the same event
reaching another process, never gives a second reply), looks its numbers up and
posts the reply in the thread.  Lookups the API failed, or the channel's budget
paused, are done again by the worker (:mod:`.worker`) from the store, so they
survive a restart; the reply is then updated in place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from nextcaller_ops import errors
from nextcaller_ops.client import NextCallerClient
from nextcaller_ops.phone import parse
from nextcaller_ops.redact import mask_phone
from nextcaller_ops.stores import AuditStore, TriageItem, TriageStore
from nextcaller_ops.stores.base import DONE, GAVE_UP, PAUSED, RETRY

from ..outbox import RETRYABLE
from ..settings import BotSettings
from . import cards, outcomes
from .budget import ChannelBudget
from .intake import Message
from .outcomes import NumberOutcome

__all__ = ["Triage", "DAY"]

log = logging.getLogger("bot.triage")

DAY = 86400.0
LEASE_SECONDS = 60.0  # an item whose lookups have not finished in this long was cut off: taken over
MAX_BACKOFF = 300.0
KEEP_SECONDS = 7 * DAY  # items (and the cards they hold) are forgotten after a week


class Triage:
    def __init__(
        self,
        settings: BotSettings,
        store: TriageStore,
        client: NextCallerClient,
        web: WebClient,
        audit: AuditStore,
        *,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.store = store
        self.client = client
        self.web = web
        self.audit = audit
        self.budget = ChannelBudget(settings.watch_lookups_per_minute)
        self._clock = clock  # nothing purged here: retention is bot.retention's, on its own schedule
        self.lease_seconds = LEASE_SECONDS

    def purge(self) -> int:
        """Forget items (and the cards they hold) and sightings older than a week."""
        return self.store.purge(self._clock() - KEEP_SECONDS)

    # -- watching ---------------------------------------------------------------------------
    def watched(self, channel_id: str | None) -> bool:
        """An admin's last word for the channel, else whether the settings list it."""
        if not channel_id:
            return False
        state = self.store.watch_state(channel_id)
        return state if state is not None else channel_id in self.settings.watch_channels

    def set_watch(self, channel_id: str, on: bool, by: str | None) -> None:
        self.store.set_watch(channel_id, on, by=by, now=self._clock())

    def is_admin(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in self.settings.admins

    # -- a new message ----------------------------------------------------------------------
    def handle(self, message: Message) -> bool:
        """Answer ``message`` once (False when it was already taken, by this process or another)."""
        item = self.admit(message)
        if item is None:
            return False
        self.run(item, more=message.more)
        return True

    def admit(self, message: Message, *, lease_seconds: float | None = None) -> TriageItem | None:
        """Claim ``message`` in the store and note its numbers seen: the item, leased to the caller for
        ``lease_seconds`` (default :attr:`lease_seconds`; 0: due now and held by nobody, so the worker
        takes it), who then runs it;
        None when the message was already taken, by this process or another.

        The first half of :meth:`handle`: the message listener claims at once and leaves the
        lookups to its pool (:mod:`.pool`), so that they never hold a listener thread."""
        now = self._clock()
        item = TriageItem(
            channel_id=message.channel_id,
            message_ts=message.ts,
            thread_ts=message.thread_ts,
            poster=message.poster,
            numbers=[n.number for n in message.numbers],
            created=now,
        )
        if not self.store.add(item, lease_seconds=self.lease_seconds if lease_seconds is None else lease_seconds):
            log.info("message %s in %s already answered: not again", message.ts, message.channel_id)
            return None
        for number in item.numbers:
            self.store.sighted(item.channel_id, number, item.message_ts, now)
        return item

    # -- looking up and replying ---------------------------------------------------------------
    def run(self, item: TriageItem, *, more: int = 0, by: str | None = None) -> None:
        """Look the item's numbers up (a person's ``by`` skips the channel's budget) and post or update the reply.

        The caller holds the item's lease; this records how it went and releases it.
        """
        found = [self._lookup(item, number, by=by) for number in item.numbers]
        blocks = [
            block
            for i, outcome in enumerate(found)
            for block in cards.number_blocks(
                outcome,
                channel_id=item.channel_id,
                message_ts=item.message_ts,
                pii=item.channel_id in self.settings.pii_channels,
                budget=self.budget.per_minute,
                index=i,
            )
        ]
        note = (
            cards.more_note(more)
            if more
            else next((b for b in item.cards or [] if b.get("block_id") == cards.MORE_ID), None)
        )
        if note:  # kept from the first attempt: only the first delivery knows how many were left out
            blocks.append(note)
        summary = cards.reply_text(found)
        stage, next_attempt = self._next(item, found)
        self.store.save_reply(item.channel_id, item.message_ts, cards=blocks, summary=summary)
        if not self._post(item.channel_id, item.message_ts):
            stage, next_attempt = RETRY, self._clock() + self._backoff(item.attempts)
        self.store.finish(item.channel_id, item.message_ts, stage=stage, next_attempt=next_attempt)

    def _lookup(self, item: TriageItem, number: str, *, by: str | None) -> NumberOutcome:
        now = self._clock()
        seen = self.store.sightings(item.channel_id, number, now - DAY)
        who = by or item.poster
        audit: dict[str, Any] = {
            "user_id": who,
            "channel_id": item.channel_id,
            "action": "triage_lookup",
            "phone": number,
        }
        if by is None:
            wait = self.budget.wait_time(item.channel_id, number, cached=self.client.cache.get(number) is not None)
            if wait:
                self.audit.record(**audit, outcome="paused: channel budget")
                return NumberOutcome(number, outcomes.PAUSED, seen, wait=wait)
        try:
            result = self.client.lookup(parse(number))
        except errors.NextCallerError as exc:
            retry = isinstance(exc, RETRYABLE) and now - item.created < DAY
            self.audit.record(**audit, outcome="error", detail=f"{type(exc).__name__} {exc.code or ''}".strip())
            log.warning("triage lookup %s failed: %s", mask_phone(number), type(exc).__name__)
            return NumberOutcome(number, outcomes.FAILED if retry else outcomes.GAVE_UP, seen)
        self.audit.record(**audit, outcome=f"found {len(result.profiles)}" if result.found else "no record")
        return NumberOutcome(number, outcomes.FOUND, seen, tuple(result.profiles))

    def _next(self, item: TriageItem, found: list[NumberOutcome]) -> tuple[str, float]:
        """The item's stage after this attempt, and when to try again."""
        now = self._clock()
        if any(o.kind == outcomes.FAILED for o in found):
            return RETRY, now + self._backoff(item.attempts)
        paused = [o.wait for o in found if o.kind == outcomes.PAUSED]
        if paused:
            return PAUSED, now + min(paused)
        return (GAVE_UP if any(o.kind == outcomes.GAVE_UP for o in found) else DONE), now

    def _backoff(self, attempts: int) -> float:
        return min(MAX_BACKOFF, self.settings.triage_retry_seconds * 2**attempts)

    def _post(self, channel_id: str, message_ts: str) -> bool:
        """Post the reply in the thread, or update it in place; False when Slack did not take it.

        Drawn from the store, so claims made meanwhile show; a button pressed between the
        post and the moment its ts is stored could not re-draw it, so that is checked after.
        """
        item = self.store.get(channel_id, message_ts)
        if item is None:
            return True  # purged meanwhile: nothing left to answer
        if item.reply_ts:
            return self._update(item)
        try:
            reply = self.web.chat_postMessage(
                channel=item.channel_id,
                thread_ts=item.thread_ts,
                text=item.summary or "Caller card",
                blocks=cards.reply_blocks(item, item.cards or []),
            )
        except SlackClientError as exc:
            log.warning("triage reply in %s not posted (retried later): %s", item.channel_id, type(exc).__name__)
            return False
        self.store.save_reply(
            channel_id, message_ts, cards=item.cards or [], summary=item.summary, reply_ts=str(reply["ts"])
        )
        latest = self.store.get(channel_id, message_ts)
        if latest is not None and _state(latest) != _state(item):
            self._update(latest)
        return True

    def _update(self, item: TriageItem) -> bool:
        if not item.reply_ts:
            return False
        try:
            self.web.chat_update(
                channel=item.channel_id,
                ts=item.reply_ts,
                text=item.summary or "Caller card",
                blocks=cards.reply_blocks(item, item.cards or []),
            )
        except SlackClientError as exc:
            log.warning("triage reply in %s not updated: %s", item.channel_id, type(exc).__name__)
            return False
        return True

    # -- what people do ---------------------------------------------------------------------
    def act(self, channel_id: str, message_ts: str, action: str, user_id: str) -> tuple[TriageItem | None, bool]:
        """Claim, release, resolve or flag; the reply is re-drawn when it changed.  (None, False): unknown item."""
        try:
            item, changed = self.store.act(channel_id, message_ts, action, user_id, self._clock())
        except KeyError:
            return None, False
        if changed:
            self.redraw(item)
        return item, changed

    def redraw(self, item: TriageItem) -> None:
        latest = self.store.get(item.channel_id, item.message_ts) or item
        if latest.reply_ts:  # else the reply is being posted, and will be re-drawn once it is (see _post)
            self._update(latest)

    def look_up_now(self, channel_id: str, message_ts: str, user_id: str) -> bool:
        """A person pressed Look up: do it now, past the channel's budget.  False when it is already under way."""
        item = self.store.lease(channel_id, message_ts, now=self._clock(), lease_seconds=LEASE_SECONDS)
        if item is None:
            return False
        self.run(item, by=user_id)
        return True

    def open_items(self, channel_id: str) -> list[TriageItem]:
        return self.store.open_items(channel_id, self._clock() - DAY)

    def due(self, limit: int = 20) -> list[TriageItem]:
        return self.store.take_due(now=self._clock(), lease_seconds=LEASE_SECONDS, limit=limit)


def _state(item: TriageItem) -> tuple[Any, ...]:
    return (item.claimed_by, item.resolved_at, item.flagged_at)
