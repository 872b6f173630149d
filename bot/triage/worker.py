"""The triage worker: lookups the API failed, or the budget paused, are done again from the store.

A thread per process, like the corrections outbox's: it takes the items that are
due (leased in the store, so two processes never run the same one), runs them
(which updates each reply in place) and sleeps until the next poll or a wake-up.
Because the work is in the store, it survives a restart of the bot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .. import messages
from .digest import run_scheduled
from .service import Triage
from .timers import fire_timers

__all__ = ["TriageWorker", "redact_forgotten"]

log = logging.getLogger("bot.triage")


def redact_forgotten(triage: Triage, limit: int = 50) -> int:
    """Edit each reply that showed a forgotten person to one line, then let the store drop the item.

    The jobs are in the store (``nextcaller-ops forget`` left them there): one Slack could not take
    now stays for the next round, so Slack being down loses nothing.  Returns how many were edited.
    """
    done = 0
    for item in triage.store.redactions(limit):
        if not item.reply_ts:
            triage.store.redacted(item.channel_id, item.message_ts)
            continue
        try:
            triage.web.chat_update(
                channel=item.channel_id,
                ts=item.reply_ts,
                text=messages.REMOVED_ON_REQUEST,
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": messages.REMOVED_ON_REQUEST}}],
            )
        except Exception as exc:  # Slack down, or the reply gone: the next round tries again
            if "message_not_found" in str(exc) or "cant_update_message" in str(exc):
                triage.store.redacted(item.channel_id, item.message_ts)
            else:
                log.warning("triage: could not edit a forgotten reply in %s (%s)", item.channel_id, type(exc).__name__)
            continue
        triage.store.redacted(item.channel_id, item.message_ts)
        done += 1
    return done


class TriageWorker:
    def __init__(
        self,
        triage: Triage,
        *,
        poll_seconds: float = 2.0,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_seconds: float = 3600.0,
    ):
        self.triage = triage
        self.poll_seconds = poll_seconds
        # purging what is past its time (old items, de-duplication keys), at most once an hour
        self._housekeeping = housekeeping or triage.purge
        self._housekeeping_seconds = housekeeping_seconds
        self._last_housekeeping = time.monotonic()
        self._digest_slot: str | None = None  # the scheduled digest time this process last looked at
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="nextcaller-triage", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def run_due(self) -> int:
        """Run every item that is due now; returns how many."""
        done = 0
        while not self._stop.is_set():
            items = self.triage.due()
            if not items:
                break
            for item in items:
                try:
                    self.triage.run(item)
                except Exception:  # one bad item must not stop the others (its lease runs out; retried)
                    log.exception("triage: unexpected error on an item in %s", item.channel_id)
                done += 1
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
                fire_timers(self.triage)  # reminders and auto-releases (in the store: once across processes)
                self._digest_slot, _ = run_scheduled(self.triage, after=self._digest_slot)  # the digest, once a slot
                redact_forgotten(self.triage)  # replies showing a forgotten person (few, usually none)
                if time.monotonic() - self._last_housekeeping >= self._housekeeping_seconds:
                    self._last_housekeeping = time.monotonic()
                    self._housekeeping()
            except Exception:  # the store was unreachable for a moment: keep the worker alive
                log.exception("triage worker: unexpected error")
            self._wake.wait(timeout=self.poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
