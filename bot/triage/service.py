"""Triage channels: watching, one threaded reply per message, lookups within a budget, claims.

:class:`Triage` is built once per process (:mod:`bot.services`).  The message
listener hands it each message worth answering (:meth:`Triage.handle`): the first
delivery of a message claims it in the store (so a Slack retry, or the same event
reaching another process, never gives a second reply), looks its numbers up and
posts the reply in the thread.  Lookups the API failed, or the channel's budget
paused, are done again by the worker (:mod:`.worker`) from the store, so they
survive a restart; the reply is then updated in place, only when it changed.

Exactly one reply per message, also when lookups outlast the lease or a process
dies mid-way: whoever works on an item holds its lease (:mod:`.lease`: renewed
while the work runs, every write fenced on it), marks the item "posting" before
``chat.postMessage``, and a worker taking over an item whose post was started but
whose ts was never saved looks in the thread for that reply first (:mod:`.thread`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from nextcaller_ops import errors
from nextcaller_ops.api.phone import parse
from nextcaller_ops.audit import asking
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.redact import mask_phone
from nextcaller_ops.stores import AuditStore, TriageItem, TriageStore
from nextcaller_ops.stores.base import DONE, GAVE_UP, PAUSED, RETRY, OpenItem

from ..outbox import RETRYABLE
from ..settings import BotSettings
from . import cards, outcomes
from .budget import ChannelBudget
from .intake import Message
from .lease import Holding
from .memory import recall
from .outcomes import NumberOutcome
from .thread import UNKNOWN, digest, find_reply, reply_metadata

__all__ = ["Triage", "DAY", "LEASE_SECONDS"]

log = logging.getLogger("bot.triage")

DAY = 86400.0
# An item whose worker has not renewed its lease for this long was cut off (a process killed, a
# machine gone): another worker takes it over.  Renewed every third of it while the work runs.
LEASE_SECONDS = 60.0
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
        lease_seconds: float | None = None,
    ):
        self.settings = settings
        self.store = store
        self.client = client
        self.web = web
        self.audit = audit
        self.budget = ChannelBudget(settings.watch_lookups_per_minute)
        self._clock = clock  # nothing purged here: retention is bot.retention's, on its own schedule
        self.lease_seconds = LEASE_SECONDS if lease_seconds is None else lease_seconds
        self._bot: tuple[str | None, str | None] | None = None  # our (user id, bot id), asked once
        # Outgoing webhooks (nextcaller_ops.webhooks): set by bot.services; queues only, never waits.
        self.emit: Callable[[str, dict[str, Any]], None] = lambda type_, data: None

    def now(self) -> float:
        """The triage clock (a fake one in tests): the item's life and its timers read it too."""
        return self._clock()

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
        leased = self.store.add(item, lease_seconds=self.lease_seconds if lease_seconds is None else lease_seconds)
        if leased is None:
            log.info("message %s in %s already answered: not again", message.ts, message.channel_id)
            return None
        self.emit("triage.opened", {**_item_data(leased), "poster": leased.poster, "phones": list(leased.numbers)})
        for number in item.numbers:
            self.store.sighted(item.channel_id, number, item.message_ts, now)
        return leased

    # -- looking up and replying ---------------------------------------------------------------
    def run(self, item: TriageItem, *, more: int = 0, by: str | None = None) -> None:
        """Look the item's numbers up (a person's ``by`` skips the channel's budget) and post or update the reply.

        The caller holds the item's lease (``item.lease_id``, from the store's add, lease or
        take_due): it is renewed while this runs, every write is fenced on it, and it is given
        back at the end with how it went.  Once another worker has taken the item over, this
        stops and changes nothing: the new holder answers.
        """
        with Holding(self.store, item, self.lease_seconds, self._clock) as held:
            found = []
            for number in item.numbers:
                if not held.renew():  # before each number: lookups on a slow API outlast the lease
                    return
                found.append(self._lookup(item, number, by=by))
            if held.lost:
                return
            blocks = self._cards(item, found, more)
            summary = cards.reply_text(found)
            stage, next_attempt = self._next(item, found)
            changed = (blocks, summary) != (item.cards, item.summary)  # not for a rerun still paused, or failing
            if changed and not self.store.save_reply(item, cards=blocks, summary=summary):
                self._lost(item)
                return
            posted = self._post(item)
            if posted is None:
                self._lost(item)
                return
            if not posted:
                stage, next_attempt = RETRY, self._clock() + self._backoff(item.attempts)
            if not self.store.finish(item, stage=stage, next_attempt=next_attempt):
                self._lost(item)

    def _cards(self, item: TriageItem, found: list[NumberOutcome], more: int) -> list[dict[str, Any]]:
        now = self._clock()
        key = (item.channel_id, item.message_ts)
        # the team's memory of each number across channels: fraud flags elsewhere, sightings per channel
        found = [replace(o, memory=recall(self.store, o.phone, now, item=key), drawn_at=now) for o in found]
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
        return blocks

    def _lost(self, item: TriageItem) -> None:
        log.warning(
            "triage: an item in %s was taken over by another worker (or forgotten) meanwhile: nothing written",
            item.channel_id,
        )

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
            # on whichever thread runs this (the pool's, the worker's, a button's): the client audits it as who's
            with asking(user_id=who, channel_id=item.channel_id, action="triage_lookup"):
                result = self.client.lookup(parse(number))
        except errors.NextCallerError as exc:
            retry = isinstance(exc, RETRYABLE) and now - item.created < DAY
            log.warning("triage lookup %s failed: %s", mask_phone(number), type(exc).__name__)
            return NumberOutcome(number, outcomes.FAILED if retry else outcomes.GAVE_UP, seen)
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

    def _post(self, leased: TriageItem) -> bool | None:
        """Post the reply in the thread, or update it in place: True when Slack has it, False when
        Slack did not take it (tried again later), None when the lease was lost or the item is gone.

        Drawn from the store, so claims made meanwhile show; a button pressed between the
        post and the moment its ts is stored could not re-draw it, so that is checked after.
        """
        item = self.store.get(leased.channel_id, leased.message_ts)
        if item is None or item.lease_id != leased.lease_id:
            return None  # purged meanwhile (nothing left to answer), or another worker's now
        if not item.reply_ts and item.posting_at is not None:
            # A post was started and its ts never saved (cut off after posting, or Slack's answer
            # lost): it may be in the thread.  Adopt it rather than post a second reply.
            found = find_reply(self.web, item, self._bot_ids())
            if found == UNKNOWN:
                return False
            if found:
                if not self.store.save_reply_ts(leased, found):
                    return None
                log.info(
                    "triage: found the reply in %s posted by an earlier attempt; not posting again", item.channel_id
                )
                item = replace(item, reply_ts=found, shown_digest=None)
        if item.reply_ts:
            return self._update(item)
        if not self.store.mark_posting(leased, now=self._clock()):
            return None
        text, blocks = _drawn(item)
        try:
            reply = self.web.chat_postMessage(
                channel=item.channel_id,
                thread_ts=item.thread_ts,
                text=text,
                blocks=blocks,
                metadata=reply_metadata(item),
            )
        except SlackClientError as exc:
            log.warning("triage reply in %s not posted (retried later): %s", item.channel_id, type(exc).__name__)
            return False
        reply_ts = str(reply["ts"])
        if not self.store.save_reply_ts(leased, reply_ts):
            self._posted_after_losing(item, reply_ts)
            return None
        self.store.save_shown(item.channel_id, item.message_ts, reply_ts=reply_ts, digest=digest(text, blocks))
        latest = self.store.get(item.channel_id, item.message_ts)
        if latest is not None:
            self._update(latest)  # a button pressed meanwhile is drawn now (nothing is sent when nothing changed)
        return True

    def _posted_after_losing(self, item: TriageItem, reply_ts: str) -> None:
        """Our post landed after another worker took the item over: if that one posted its own
        reply, ours is a second one and is taken back; else the new holder finds ours in the thread."""
        latest = self.store.get(item.channel_id, item.message_ts)
        if latest is None or not latest.reply_ts or latest.reply_ts == reply_ts:
            return
        try:
            self.web.chat_delete(channel=item.channel_id, ts=reply_ts)
            log.warning("triage: took back a second reply in %s (another worker had answered)", item.channel_id)
        except SlackClientError as exc:
            log.warning("triage: a second reply in %s could not be taken back: %s", item.channel_id, type(exc).__name__)

    def _update(self, item: TriageItem) -> bool:
        """Re-draw the reply in place; no call at all when it would look as it does (a paused rerun).

        Two re-draws can cross (a worker's from a read taken just before a Claim, and the Claim's
        own): whichever reaches Slack last wins.  So after each update the item is read again, and
        drawn again while the store holds something newer than what was just sent.
        """
        for _ in range(_REDRAWS):
            if not item.reply_ts:
                return False
            text, blocks = _drawn(item)
            drawn = digest(text, blocks)
            if drawn == item.shown_digest:
                return True
            try:
                self.web.chat_update(channel=item.channel_id, ts=item.reply_ts, text=text, blocks=blocks)
            except SlackClientError as exc:
                log.warning("triage reply in %s not updated: %s", item.channel_id, type(exc).__name__)
                return False
            self.store.save_shown(item.channel_id, item.message_ts, reply_ts=item.reply_ts, digest=drawn)
            latest = self.store.get(item.channel_id, item.message_ts)
            if latest is None or digest(*_drawn(latest)) == drawn:
                return True
            item = replace(latest, shown_digest=None)  # changed while we drew: what Slack shows may be older
        return True

    def _bot_ids(self) -> tuple[str | None, str | None]:
        """Who we are in Slack (user id, bot id), to tell our replies from other apps'; asked once."""
        if self._bot is None:
            try:
                who = self.web.auth_test()
                self._bot = (who.get("user_id"), who.get("bot_id"))
            except SlackClientError:
                return (None, None)  # asked again next time
        return self._bot

    # -- what people do ---------------------------------------------------------------------
    def act(self, channel_id: str, message_ts: str, action: str, user_id: str) -> tuple[TriageItem | None, bool]:
        """Claim, release, resolve or flag; the reply is re-drawn when it changed.  (None, False): unknown item."""
        try:
            item, changed = self.store.act(channel_id, message_ts, action, user_id, self._clock())
        except KeyError:
            return None, False
        if changed:
            self.redraw(item)
            if action in _EVENTS:
                self.emit(_EVENTS[action], {**_item_data(item), "by": user_id})
        return item, changed

    def redraw(self, item: TriageItem) -> None:
        latest = self.store.get(item.channel_id, item.message_ts) or item
        if latest.reply_ts:  # else the reply is being posted, and will be re-drawn once it is (see _post)
            self._update(latest)

    def look_up_now(self, channel_id: str, message_ts: str, user_id: str) -> bool:
        """A person pressed Look up: do it now, past the channel's budget.  False when it is already under way."""
        item = self.store.lease(channel_id, message_ts, now=self._clock(), lease_seconds=self.lease_seconds)
        if item is None:
            return False
        self.run(item, by=user_id)
        return True

    def open_items(self, channel_id: str) -> list[TriageItem]:
        return self.store.open_items(channel_id, self._clock() - DAY)

    def open_summary(self, channel_id: str, limit: int) -> tuple[list[OpenItem], int]:
        """The channel's oldest ``limit`` open items of the last 24 h (what a list shows), and how many in all."""
        return self.store.open_summary(channel_id, self._clock() - DAY, limit)

    def due(self, limit: int = 20) -> list[TriageItem]:
        """Items due again, leased to the caller; fair across channels (the store's take_due)."""
        return self.store.take_due(now=self._clock(), lease_seconds=self.lease_seconds, limit=limit)


# What a change made by a person is called in an outgoing webhook (a release is not announced; a drop is
# lifecycle.drop's).
_EVENTS = {"claim": "triage.claimed", "resolve": "triage.resolved", "flag": "triage.flagged"}


_REDRAWS = 3  # crossing re-draws settle within one more round; a bound all the same


def _item_data(item: TriageItem) -> dict[str, Any]:
    """Which item a webhook is about: its channel and message (the receiver's key for ordering)."""
    return {"channel_id": item.channel_id, "message_ts": item.message_ts}


def _drawn(item: TriageItem) -> tuple[str, list[dict[str, Any]]]:
    """The reply as Slack shows it: its notification text and its blocks (cards, status, buttons)."""
    return item.summary or "Caller card", cards.reply_blocks(item, item.cards or [])
