"""Triage lookups on threads of their own, so that a flood of watched messages never starves a slash command.

The message listener runs on Bolt's listener threads, which also run every
``/caller``'s ack.  When it did the lookups there, a burst of watched messages
on a slow API held all of those threads, and ``/caller`` in another channel was
acknowledged after Slack's 3 s.  Now the listener only claims the message in the
store (one INSERT: a retry, or another process, never answers it twice) and
hands the lookups to a :class:`TriagePool`: a few threads with a bounded queue.

When the queue is full the message is stored due at once and left to the triage
worker (:mod:`.worker`), which takes due items from the store; so is a message
that waited in the queue so long that its lease is running out (the worker takes
it once the lease has run out).  Nothing waits in memory without bound, and a
message is in the store before anything waits for it: a process that dies leaves
it to the worker of the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from nextcaller_ops.stores import TriageItem

from .intake import Message
from .lifecycle import screen
from .service import Triage

__all__ = ["TriagePool", "THREADS", "QUEUE"]

log = logging.getLogger("bot.triage")

THREADS = 16  # lookups of watched messages under way at once, per process
QUEUE = 256  # messages waiting for a thread; past that they are the worker's


class TriagePool:
    """Bounded: at most ``threads`` running and ``queue`` waiting; :meth:`offer` never blocks on a lookup."""

    def __init__(
        self,
        triage: Triage,
        wake_worker: Callable[[], None],
        *,
        threads: int = THREADS,
        queue: int = QUEUE,
        max_wait: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.triage = triage
        self._wake_worker = wake_worker
        # A message queued longer than this is left to the worker: its lease (not renewed while it
        # waits) is running out.  Half the lease by default.
        self.max_wait = triage.lease_seconds / 2 if max_wait is None else max_wait
        self._clock = clock
        self._slots = threading.BoundedSemaphore(threads + queue)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="triage")
        self._lock = threading.Lock()
        self._closed = False
        self.left_to_worker = 0  # messages the pool had no room for (or kept waiting too long): for tests, logs

    def offer(self, message: Message) -> bool:
        """Claim ``message`` and have it answered, here or by the worker; False when it was already taken."""
        screened = screen(self.triage, message)  # snoozed numbers: a note in the thread, no lookup
        if screened is None:
            return False
        message = screened
        if self._closed or not self._slots.acquire(blocking=False):
            # No room: in the store due now and held by nobody, so the worker takes it at its next look.
            if self.triage.admit(message, lease_seconds=0.0) is None:
                return False
            self._left("the triage pool is full", message.channel_id)
            self._wake_worker()
            return True
        try:
            item = self.triage.admit(message)
        except BaseException:
            self._slots.release()
            raise
        if item is None:
            self._slots.release()
            return False
        try:
            self._executor.submit(self._run, item, message.more, self._clock())
        except RuntimeError:  # closed meanwhile: the item's lease runs out and the worker takes it
            self._slots.release()
            self._left("the bot is stopping", item.channel_id)
        return True

    def _run(self, item: TriageItem, more: int, queued_at: float) -> None:
        try:
            if self._clock() - queued_at > self.max_wait:
                # Its lease is running out: running it now could race the worker that takes it over.
                self._left("it waited too long in the triage pool", item.channel_id)
                return
            self.triage.run(item, more=more)
        except Exception:  # one bad item must not stop the others (its lease runs out; the worker retries)
            log.exception("triage: unexpected error on an item in %s", item.channel_id)
        finally:
            self._slots.release()

    def _left(self, why: str, channel_id: str) -> None:
        with self._lock:
            self.left_to_worker += 1
        log.info("triage: a message in %s left to the worker: %s", channel_id, why)

    def close(self, timeout: float = 10.0) -> None:
        """Take no more, let the lookups under way finish (at most ``timeout`` s).

        Messages still queued stay in the store, leased: once the lease runs out the
        worker (of this process's next start, or of another process) answers them.
        """
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        waiter = threading.Thread(target=self._executor.shutdown, kwargs={"wait": True}, daemon=True)
        waiter.start()
        waiter.join(timeout)
        if waiter.is_alive():
            log.warning("triage: lookups still running after %.0f s; leaving them", timeout)
