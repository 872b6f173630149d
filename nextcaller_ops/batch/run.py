"""The one batch engine: every surface's batch streams through here, with the same rules and the same summary.

>>> with stream_batch(client, lines, progress=bar) as run:      # doctest: +SKIP
...     for item in run:                # in input order, each as soon as it is ready
...         write(item)
>>> run.summary.text()                                          # doctest: +SKIP
'2 lines: 1 found, 0 no record, 1 invalid, 0 duplicates — 1 request, 0.0 s, 0 from cache'

:func:`run_batch` is the same run collected into a list (a notebook cell's
table).  Every batch goes through this engine: ``lookup --file`` and
``lookup A B --format csv`` (the CLI), ``%%nextcaller`` with or without
``--email`` and ``--fraud``, ``%nextcaller_enrich`` and
:func:`nextcaller_ops.enrich`.  What each line asks is a :class:`Question`
(a phone lookup unless told otherwise); the rules are the engine's:

* rows come in input order as they complete; a question asked twice is asked
  once (:mod:`.batch`); at most a window of inputs is held, so an input of any
  length (a file, stdin) streams in bounded memory;
* an error that every further request would hit too (``FATAL_FOR_BATCH``:
  a refused key, billing, an expired trial) stops the run at once: requests
  not yet sent are not sent, that line's row is the last one, the rows before
  it are kept;
* a budget (``max_requests``) is checked before each question goes out: a
  question that would take the run past it is not asked, its row is
  ``skipped`` (a duplicate of an earlier line still comes; a row past the
  budget is skipped even when the cache holds its answer: the budget is
  checked before the cache is asked); retries count against it as they happen;
* an interrupt (``KeyboardInterrupt``, Ctrl-C), while waiting for a row or
  inside the ``with`` block, ends the run keeping the rows done so far;
  anything else unexpected propagates, after the progress has been finished;
* the :class:`BatchSummary` counts rows, requests and time and carries the
  pacing in force at the end; a :class:`Progress` is told the total, each row
  done and, at the end, the summary (the surface words it).

The engine asks the client only what :class:`BatchClient` lists (its public
face: ``batch_plan``, ``lookup``, ``requests_sent``, ``pacing_state``);
nothing here speaks HTTP or draws anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ..api.models import LookupResult
from ..api.phone import PhoneInput, parse
from ..client import fanout as batch
from ..client.fanout import BatchItem, BatchPlan
from ..errors import FATAL_FOR_BATCH, NeedsNewerAPIError, NextCallerError, UsageError

if TYPE_CHECKING:
    from ..rate.pacer import PacingState

__all__ = [
    "BatchClient",
    "BatchRun",
    "BudgetSpent",
    "DryRun",
    "dry_run",
    "BatchSummary",
    "NoProgress",
    "Progress",
    "Question",
    "V21BatchClient",
    "email_lookups",
    "phone_and_fraud_lookups",
    "phone_lookups",
    "run_batch",
    "stream_batch",
]


class BatchClient(Protocol):
    """All the engine asks of a client (:class:`~nextcaller_ops.client.client.NextCallerClient` is one)."""

    @property
    def requests_sent(self) -> int:
        """Attempts on the wire so far, retries included."""
        ...

    def batch_plan(self, concurrency: int | None = None) -> BatchPlan:
        """How wide to fan out for ``concurrency`` (None: the client's own), its pool sized to match."""
        ...

    def pacing_state(self) -> PacingState | None:
        """The request rate kept now (None: the client does not pace)."""
        ...

    def lookup(self, phone: str | PhoneInput, *, refresh: bool = False) -> LookupResult:
        """A phone lookup: what a line asks unless the batch's :class:`Question` says otherwise."""
        ...


class V21BatchClient(BatchClient, Protocol):
    """What the v2.1 questions ask of a client besides (:func:`email_lookups`, :func:`phone_and_fraud_lookups`)."""

    @property
    def api_version(self) -> str: ...

    def lookup_email(self, email: str, *, refresh: bool = False) -> LookupResult: ...

    def lookup_with_fraud(self, phone: str | PhoneInput, *, refresh: bool = False) -> LookupResult: ...


class Progress(Protocol):
    """How a surface shows a batch going: a bar, a widget, or nothing."""

    def start(self, total: int | None) -> None:
        """The batch begins; ``total`` rows are expected (None: not known, e.g. stdin)."""

    def advance(self, done: int) -> None:
        """``done`` rows of ``total`` are ready."""

    def finish(self, summary: BatchSummary) -> None:
        """The batch is over (complete, stopped or interrupted): show the final state, never a frozen bar."""


class NoProgress:
    def start(self, total: int | None) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def finish(self, summary: BatchSummary) -> None:
        pass


@dataclass(frozen=True)
class Question:
    """What each line of a batch asks: ``ask(parsed, refresh)``, how a line is read, which lines ask the same.

    ``parse_input(raw)`` raises :class:`~nextcaller_ops.errors.UsageError` for a
    line that is not a question (its row is ``invalid``, no request);
    ``key(parsed)`` is the same for lines that ask the same thing.
    """

    ask: Callable[[Any, bool], LookupResult]
    parse_input: Callable[[str], Any] = parse
    key: Callable[[Any], str] = batch.phone_key


def phone_lookups(client: BatchClient) -> Question:
    """Each line a phone number: its records."""
    return Question(lambda phone, refresh: client.lookup(phone, refresh=refresh))


def phone_and_fraud_lookups(client: V21BatchClient) -> Question:
    """Each line a phone number: its records and its fraud level (API v2.1; refused on v2 before any request)."""
    if client.api_version != "v2.1":
        raise NeedsNewerAPIError("a fraud check")
    return Question(lambda phone, refresh: client.lookup_with_fraud(phone, refresh=refresh))


def email_lookups(client: V21BatchClient) -> Question:
    """Each line an email address (API v2.1; refused on v2 before any request); an address asked in any case once."""
    from ..api.queries import check_email

    if client.api_version != "v2.1":
        raise NeedsNewerAPIError("a lookup by email")
    return Question(
        lambda address, refresh: client.lookup_email(address, refresh=refresh),
        parse_input=check_email,
        key=str.casefold,
    )


class BudgetSpent(NextCallerError):
    """A row's question was not asked: the run's ``max_requests`` were spent (its row is ``skipped``)."""

    def __init__(self, budget: int):
        super().__init__(
            f"not looked up: the run's budget of {_n(budget, 'request')} was spent",
            hint="run again with a larger --max-requests (with --resume, only the rows not done yet)",
        )
        self.budget = budget


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


@dataclass
class BatchSummary:
    """What a batch did, for the one line people read after it (each surface words it: :meth:`text`, the CLI's)."""

    lines: int  # the inputs (for an input that is no sequence: those read)
    done: int = 0
    found: int = 0
    not_found: int = 0
    invalid: int = 0
    errors: int = 0
    skipped: int = 0  # not asked: the budget (``max_requests``) was spent
    budget: int | None = None  # the run's max_requests
    resumed: int = 0  # rows an earlier, interrupted run had done (a surface that resumes sets it)
    duplicates: int = 0
    from_cache: int = 0
    requests: int = 0  # attempts that reached the wire, retries included
    seconds: float = 0.0
    stopped_by: NextCallerError | None = None  # the error that stopped the batch
    stopped_at: int | None = None  # its line, 1-based
    interrupted: bool = False
    pacing: PacingState | None = None  # the rate kept at the end, as the client reported it
    asked: int = 0  # rows whose question went to the API (not invalid, not a duplicate, not from the cache)

    @property
    def retried(self) -> int:
        """Requests sent again (after a 429 or a server error): those on the wire beyond one per question asked."""
        return max(0, self.requests - self.asked)

    def add(self, item: BatchItem) -> None:
        self.done += 1
        if item.status == "found":
            self.found += 1
        elif item.status == "not_found":
            self.not_found += 1
        elif item.status == "invalid":
            self.invalid += 1
        elif item.status == "skipped":
            self.skipped += 1
        else:
            self.errors += 1
        if item.duplicate:
            self.duplicates += 1
        elif item.result is not None and item.result.cached:
            self.from_cache += 1
        elif item.status not in ("invalid", "skipped"):
            self.asked += 1

    def by_status(self) -> dict[str, int]:
        """The rows per status (``found``, ``not_found``, ``invalid``, ``error``, ``skipped``), those that occurred."""
        counts = {
            "found": self.found,
            "not_found": self.not_found,
            "invalid": self.invalid,
            "error": self.errors,
            "skipped": self.skipped,
        }
        return {status: n for status, n in counts.items() if n}

    def text(self) -> str:
        """``195 lines: 187 found, 1 no record, 7 invalid, 5 duplicates — 190 requests, 0.4 s, 5 from cache``."""
        counts = [f"{self.found} found", f"{self.not_found} no record", f"{self.invalid} invalid"]
        counts.append(_n(self.duplicates, "duplicate"))
        if self.errors:
            counts.append(_n(self.errors, "error"))
        if self.skipped:
            counts.append(f"{self.skipped} skipped (over the budget of {_n(self.budget or 0, 'request')})")
        line = (
            f"{_n(self.lines, 'line')}: {', '.join(counts)} — "
            f"{_n(self.requests, 'request')}, {self.seconds:.1f} s, {self.from_cache} from cache"
        )
        paced = self.pacing_text()
        if paced:
            line += f" — {paced}"
        if self.resumed:
            line += f" — {self.resumed_text()}"
        if self.stopped_by is not None:
            line += f" — stopped at line {self.stopped_at}, {_n(self.lines - self.done, 'line')} not looked up"
        elif self.interrupted:
            line += f" — interrupted: {self.done} of {self.lines} done"
        return line

    def resumed_text(self) -> str:
        return f"{_n(self.resumed, 'row')} from the earlier run, not asked again"

    def pacing_text(self) -> str:
        """``paced at 4.8 requests/s (the API's limit: 5/s); 21 requests retried after a 429 or a server error``."""
        from .pace import summary_words, why_words

        # The pace is named when something set it (a limit, NEXTCALLER_OPS_MAX_RPS, a back-off), not while
        # the pacer merely feels its way up to an API that named none.
        kept = self.pacing is not None and self.pacing.rate is not None and why_words(self.pacing)
        parts = [(summary_words(self.pacing) or "") if kept else ""]
        if self.retried:
            parts.append(f"{_n(self.retried, 'request')} retried after a 429 or a server error")
        return "; ".join(p for p in parts if p)


PARSE_MEMO = 20_000  # lines read remembered per run: a file that repeats numbers parses each once


def parsed_once(parse_input: Callable[[str], Any], size: int = PARSE_MEMO) -> Callable[[str], Any]:
    """``parse_input`` remembering its answers, a refusal too (a line parsed is the slowest part of a row here).

    Bounded: when ``size`` lines are remembered they are forgotten all at once (cheap, and a
    batch that repeats numbers repeats them close together or within a distinct set this size).
    """
    memo: dict[str, tuple[bool, Any]] = {}

    def parse_once(raw: str) -> Any:
        known = memo.get(raw)
        if known is None:
            try:
                known = (True, parse_input(raw))
            except UsageError as exc:
                known = (False, exc)
            if len(memo) >= size:
                memo.clear()
            memo[raw] = known
        ok, value = known
        if ok:
            return value
        raise value

    return parse_once


class BatchRun:
    """One batch, streamed: enter it, iterate it for the rows, read :attr:`summary` after the ``with``.

    Entering sizes the fan-out (the client's :meth:`~BatchClient.batch_plan`)
    and starts the progress; leaving cancels what was not started, fills in the
    requests, time and pacing, and finishes the progress.  A ``KeyboardInterrupt``
    inside the block is taken as the end of the run (``summary.interrupted``).
    """

    def __init__(
        self,
        client: BatchClient,
        inputs: Iterable[str],
        *,
        question: Question | None = None,
        concurrency: int | None = None,
        refresh: bool = False,
        progress: Progress | None = None,
        total: int | None = None,
        max_requests: int | None = None,
    ):
        self._client = client
        self._budget = max_requests
        self._reserved = 0  # requests counted against the budget (asked, or sent as retries)
        self._budget_lock = threading.Lock()
        self._inputs = inputs
        self._question = question or phone_lookups(client)
        self._concurrency = concurrency
        self._refresh = refresh
        self._progress = progress or NoProgress()
        self._sized = isinstance(inputs, Sized)
        self._total = len(inputs) if isinstance(inputs, Sized) else total
        self.summary = BatchSummary(lines=len(inputs) if isinstance(inputs, Sized) else 0, budget=max_requests)
        self._fatal: list[NextCallerError] = []
        self._fatal_lock = threading.Lock()
        self._rows: Iterator[BatchItem] | None = None
        self._sent_before = 0
        self._started = 0.0
        self._paced_at = float("-inf")

    # -- the rules ----------------------------------------------------------------
    def _ask(self, parsed: Any, refresh: bool) -> LookupResult:
        if self._fatal:  # a request that would fail the same way is not sent
            raise self._fatal[0]
        self._take_from_budget()
        try:
            result = self._question.ask(parsed, refresh)
        except FATAL_FOR_BATCH as exc:
            with self._fatal_lock:
                if not self._fatal:
                    self._fatal.append(exc)
            raise
        if result.cached and self._budget is not None:
            with self._budget_lock:  # the cache answered: the request set aside was not sent
                self._reserved -= 1
        return result

    def _take_from_budget(self) -> None:
        """Set one request aside for a question, or refuse it (:class:`BudgetSpent`) when the budget is spent.

        What counts is the larger of the requests set aside and those really sent (retries too), so
        questions in flight at once never take the run past it together.
        """
        if self._budget is None:
            return
        with self._budget_lock:
            sent = self._client.requests_sent - self._sent_before
            if max(self._reserved, sent) >= self._budget:
                raise BudgetSpent(self._budget)
            self._reserved = max(self._reserved, sent) + 1

    def _read(self) -> Iterator[str]:
        for raw in self._inputs:
            if not self._sized:
                self.summary.lines += 1
            yield raw

    # -- the run ------------------------------------------------------------------
    def __enter__(self) -> BatchRun:
        plan = self._client.batch_plan(self._concurrency)
        self._sent_before = self._client.requests_sent
        self._started = time.perf_counter()
        self._progress.start(self._total)
        self._rows = batch.iter_lookup_many(
            self._ask,
            self._read(),
            concurrency=plan.width,
            memo_size=plan.memo_size,
            refresh=self._refresh,
            parse_input=parsed_once(self._question.parse_input),
            key=self._question.key,
        )
        return self

    def __iter__(self) -> Iterator[BatchItem]:
        if self._rows is None:
            raise RuntimeError("a batch runs inside `with stream_batch(...) as run:`")
        try:
            for item in self._rows:
                if isinstance(item.error, BudgetSpent):
                    item = replace(item, status="skipped")
                self.summary.add(item)
                if isinstance(item.error, FATAL_FOR_BATCH):
                    self.summary.stopped_by, self.summary.stopped_at = item.error, item.index + 1
                    yield item
                    return
                self._progress.advance(self.summary.done)
                self._tell_pacing()
                yield item
        except KeyboardInterrupt:  # Ctrl-C while waiting for a row (or in a lookup): keep what is done
            self.summary.interrupted = True
        finally:
            self._stop()

    def _tell_pacing(self) -> None:
        """A progress with a ``paced(state)`` method is told the rate kept, at most once a second (a bar shows it)."""
        paced = getattr(self._progress, "paced", None)
        now = time.monotonic()
        if paced is not None and now - self._paced_at >= 1.0:
            self._paced_at = now
            paced(self._client.pacing_state())

    def _stop(self) -> None:
        rows, self._rows = self._rows, iter(())
        close = getattr(rows, "close", None)  # a generator: closing it cancels the lookups not yet started
        if close is not None:
            close()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if kind is not None:
            self.summary.interrupted = True  # Ctrl-C, or whatever went wrong: the bar must not stay frozen
        self._stop()
        self.summary.requests = self._client.requests_sent - self._sent_before
        self.summary.seconds = time.perf_counter() - self._started
        self.summary.pacing = self._client.pacing_state()
        self._progress.finish(self.summary)
        return kind is not None and issubclass(kind, KeyboardInterrupt)


def stream_batch(
    client: BatchClient,
    inputs: Iterable[str],
    *,
    question: Question | None = None,
    concurrency: int | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
    total: int | None = None,
    max_requests: int | None = None,
) -> BatchRun:
    """A batch over ``inputs`` to run with ``with … as run: for item in run:`` (see :class:`BatchRun`).

    ``question``: what each line asks (default: a phone lookup);
    ``concurrency``: lookups at once (None: the client's setting); ``total``:
    the rows to expect when ``inputs`` is no sequence (for the progress only);
    ``max_requests``: never send more (rows past it are ``skipped``).
    """
    return BatchRun(
        client,
        inputs,
        question=question,
        concurrency=concurrency,
        refresh=refresh,
        progress=progress,
        total=total,
        max_requests=max_requests,
    )


def run_batch(
    client: BatchClient,
    inputs: Iterable[str],
    *,
    question: Question | None = None,
    concurrency: int | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
) -> tuple[list[BatchItem], BatchSummary]:
    """The rows done (in input order) and the summary: :func:`stream_batch`, collected."""
    items: list[BatchItem] = []
    with stream_batch(
        client, inputs, question=question, concurrency=concurrency, refresh=refresh, progress=progress
    ) as run:
        items.extend(run)
    return items, run.summary


@dataclass(frozen=True)
class DryRun:
    """What a batch would do, found without sending anything: its rows, the distinct questions, the cache's part."""

    rows: int
    invalid: int
    distinct: int  # distinct questions among the valid rows
    cached: int  # of those, the ones the cache holds now
    refresh: bool = False

    @property
    def requests(self) -> int:
        """Requests a real run would make (retries aside): each distinct question the cache cannot answer."""
        return self.distinct if self.refresh else self.distinct - self.cached

    def text(self) -> str:
        """``Dry run, nothing sent: 5 rows (1 invalid), 3 distinct numbers, 1 in the cache — a run would make 2 requests``."""
        bad = f" ({self.invalid} invalid)" if self.invalid else ""
        held = "ignored: --refresh" if self.refresh else "in the cache"
        return (
            f"Dry run, nothing sent: {_n(self.rows, 'row')}{bad}, {self.distinct} distinct, "
            f"{self.cached} of them {held} — a real run would make {_n(self.requests, 'request')}"
        )


def dry_run(
    inputs: Iterable[str], holds: Callable[[str], bool], *, question: Question | None = None, refresh: bool = False
) -> DryRun:
    """Read every line as a batch would (``question``'s parsing and sameness), ask nothing.

    ``holds(key)`` says whether the cache has an answer for a question's key
    (for a phone lookup: the 10-digit number); only the keys are kept.
    """
    question = question or Question(lambda parsed, refresh: LookupResult("", ()))
    rows = invalid = 0
    keys: set[str] = set()
    cached = 0
    for raw in inputs:
        rows += 1
        try:
            parsed = question.parse_input("" if raw is None else str(raw))
        except UsageError:
            invalid += 1
            continue
        key = question.key(parsed)
        if key not in keys:
            keys.add(key)
            cached += bool(holds(key))
    return DryRun(rows, invalid, len(keys), cached, refresh)
