"""One batch of lookups with its rules and its numbers: stop early, be interrupted, sum it up.

>>> items, summary = run_batch(client, ["2125558383", "bogus"], progress=None)   # doctest: +SKIP
>>> summary.text()
'2 lines: 1 found, 0 no record, 1 invalid, 0 duplicates — 1 request, 0.0 s, 0 from cache'

The rules every surface shares (``%%nextcaller``, ``%nextcaller_enrich``,
:func:`nextcaller_ops.enrich`):

* rows come in input order; a number asked twice is fetched once (:mod:`.batch`);
* an error that every further request would hit too (``FATAL_FOR_BATCH``:
  a refused key, billing, an expired trial) stops the batch at once: lookups not
  yet sent are not sent, the rows before it are kept;
* an interrupt (``KeyboardInterrupt``) keeps the rows done so far;
* a :class:`Progress` is told the total, each row done and, at the end, the
  :class:`BatchSummary` (the surface shows the summary line).

Nothing here speaks HTTP or draws anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import batch
from .batch import BatchItem
from .errors import FATAL_FOR_BATCH, NextCallerError
from .models import LookupResult
from .phone import PhoneInput

if TYPE_CHECKING:
    from .client import NextCallerClient

__all__ = ["BatchSummary", "Progress", "NoProgress", "run_batch"]


class Progress(Protocol):
    """How a surface shows a batch going: a bar, a widget, or nothing."""

    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None:
        """``done`` rows of ``total`` are ready."""

    def finish(self, summary: BatchSummary) -> None:
        """The batch is over (complete, stopped or interrupted): show the final state, never a frozen bar."""


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, summary: BatchSummary) -> None:
        pass


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


@dataclass
class BatchSummary:
    """What a batch did, for the one line people read after it."""

    lines: int
    done: int = 0
    found: int = 0
    not_found: int = 0
    invalid: int = 0
    errors: int = 0
    duplicates: int = 0
    from_cache: int = 0
    requests: int = 0  # attempts that reached the wire, retries included
    seconds: float = 0.0
    stopped_by: NextCallerError | None = None  # the error that stopped the batch
    stopped_at: int | None = None  # its line, 1-based
    interrupted: bool = False

    def add(self, item: BatchItem) -> None:
        self.done += 1
        if item.status == "found":
            self.found += 1
        elif item.status == "not_found":
            self.not_found += 1
        elif item.status == "invalid":
            self.invalid += 1
        else:
            self.errors += 1
        if item.duplicate:
            self.duplicates += 1
        elif item.result is not None and item.result.cached:
            self.from_cache += 1

    def text(self) -> str:
        """``195 lines: 187 found, 1 no record, 7 invalid, 5 duplicates — 190 requests, 0.4 s, 5 from cache``."""
        counts = [f"{self.found} found", f"{self.not_found} no record", f"{self.invalid} invalid"]
        counts.append(_n(self.duplicates, "duplicate"))
        if self.errors:
            counts.append(_n(self.errors, "error"))
        line = (
            f"{_n(self.lines, 'line')}: {', '.join(counts)} — "
            f"{_n(self.requests, 'request')}, {self.seconds:.1f} s, {self.from_cache} from cache"
        )
        if self.stopped_by is not None:
            line += f" — stopped at line {self.stopped_at}, {_n(self.lines - self.done, 'line')} not looked up"
        elif self.interrupted:
            line += f" — interrupted: {self.done} of {self.lines} done"
        return line


def run_batch(
    client: NextCallerClient,
    inputs: Sequence[str],
    *,
    concurrency: int | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    on_item: Callable[[BatchItem], None] | None = None,
    ask: Callable[..., LookupResult] | None = None,
    parse_input: Callable[[str], Any] | None = None,
    key: Callable[[Any], str] | None = None,
) -> tuple[list[BatchItem], BatchSummary]:
    """Look ``inputs`` up; the items done (in input order) and the summary.

    Stops at the first ``FATAL_FOR_BATCH`` error (that line's item is the last
    one returned) and at ``KeyboardInterrupt`` (the items done so far).
    ``ask(parsed, refresh=...)`` is what each line asks (default: a phone
    lookup); ``parse_input`` and ``key`` are for lines that are not numbers
    (API v2.1's email addresses; see :func:`nextcaller_ops.batch.iter_lookup_many`).
    """
    ask = ask or client.lookup
    kinds: dict[str, Any] = {k: v for k, v in (("parse_input", parse_input), ("key", key)) if v is not None}
    progress = progress or NoProgress()
    summary = BatchSummary(lines=len(inputs))
    fatal: list[NextCallerError] = []
    fatal_lock = threading.Lock()

    def lookup(parsed: PhoneInput, refresh: bool) -> LookupResult:
        if fatal:  # a request that would fail the same way is not sent
            raise fatal[0]
        try:
            return ask(parsed, refresh=refresh)
        except FATAL_FOR_BATCH as exc:
            with fatal_lock:
                if not fatal:
                    fatal.append(exc)
            raise

    workers = max(1, int(concurrency or client.settings.concurrency))
    client.transport.ensure_pool(workers)
    sent_before = client.requests_sent
    started = time.perf_counter()
    items: list[BatchItem] = []
    progress.start(len(inputs))
    lines = batch.iter_lookup_many(
        lookup,
        inputs,
        concurrency=workers,
        memo_size=client.settings.cache_max_entries,
        refresh=refresh,
        **kinds,
    )
    try:
        for item in lines:
            items.append(item)
            summary.add(item)
            if on_item is not None:
                on_item(item)
            if isinstance(item.error, FATAL_FOR_BATCH):
                summary.stopped_by, summary.stopped_at = item.error, item.index + 1
                break
            progress.advance(len(items))
    except KeyboardInterrupt:
        summary.interrupted = True
    except BaseException:
        summary.interrupted = True  # whatever went wrong, the bar must not stay frozen on the page
        summary.seconds = time.perf_counter() - started
        progress.finish(summary)
        raise
    finally:
        close = getattr(lines, "close", None)  # a generator: closing it cancels the lookups not yet started
        if close is not None:
            close()
        summary.requests = client.requests_sent - sent_before
        summary.seconds = time.perf_counter() - started
    progress.finish(summary)
    return items, summary
