"""Many lookups at once: in input order, one call per distinct number, bounded memory.

>>> for item in iter_lookup_many(lookup, lines, concurrency=8, memo_size=10_000, refresh=False):  # doctest: +SKIP
...     print(item.index, item.status, item.profiles)

``lookup(parsed_phone, refresh) -> LookupResult`` is any function that raises
:class:`~nextcaller_ops.errors.NextCallerError` on failure; the client hands in
its own cached, single-flight :meth:`~nextcaller_ops.client.client.NextCallerClient.lookup`.
The inputs are phone numbers unless ``parse_input`` and ``key`` say otherwise
(v2.1's batches of email addresses).  How wide to fan out is the client's to say
(:meth:`~nextcaller_ops.client.client.NextCallerClient.batch_plan` returns a
:class:`BatchPlan`); the rules of a whole batch (stop, interrupt, summary,
progress) are :mod:`.batch_run`'s.  Nothing here speaks HTTP.
"""

from __future__ import annotations

import concurrent.futures
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .. import errors
from ..api.models import LookupResult, Profile
from ..api.phone import PhoneInput, parse

__all__ = ["BatchItem", "BatchPlan", "Lookup", "iter_lookup_many", "phone_key"]

Lookup = Callable[[Any, bool], LookupResult]


def phone_key(parsed: Any) -> str:
    """Which lines ask the same: for phone numbers, the 10-digit number."""
    return parsed.number


@dataclass(frozen=True)
class BatchPlan:
    """How wide a batch fans out on a client, as the client says (its pool is sized for ``width``)."""

    width: int  # lookups in flight at once
    memo_size: int  # distinct questions remembered for de-duplication (the client's cache size)


@dataclass(frozen=True)
class BatchItem:
    """One input line of a batch, in input order."""

    index: int
    input: str
    phone: str | None  # normalised, None when refused (and for inputs that are not numbers)
    status: str  # "found" | "not_found" | "invalid" | "error"
    result: LookupResult | None = None
    error: errors.NextCallerError | None = None
    duplicate: bool = False  # an earlier line asked for the same number

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return self.result.profiles if self.result else ()


def iter_lookup_many(
    lookup: Lookup,
    phones: Iterable[str],
    *,
    concurrency: int,
    window: int | None = None,
    memo_size: int,
    refresh: bool,
    parse_input: Callable[[str], Any] = parse,
    key: Callable[[Any], str] = phone_key,
) -> Iterator[BatchItem]:
    """Yield one :class:`BatchItem` per input, in input order, as soon as it is ready.

    ``concurrency`` lookups run at once on a thread pool.  At most ``window``
    inputs are held (default 4 × concurrency), so memory stays flat for any
    number of inputs.  A number that appears again is not looked up again: it
    shares the first occurrence's answer, marked ``duplicate`` (the last
    ``memo_size`` distinct numbers are remembered).  An input that is not a
    phone number becomes an ``invalid`` row without a call; a lookup's
    :class:`~nextcaller_ops.errors.NextCallerError` becomes an ``error`` row.
    Closing the generator early cancels the lookups not yet started.

    ``parse_input(raw)`` turns a line into what ``lookup`` takes (a
    :class:`~nextcaller_ops.errors.UsageError` makes the line ``invalid``), and
    ``key(parsed)`` says which lines ask the same thing; by default both are
    about phone numbers.
    """
    workers = max(1, int(concurrency))
    limit = max(workers, int(window or workers * 4))
    memo_size = max(1, int(memo_size))
    first: OrderedDict[str, concurrent.futures.Future[BatchItem]] = OrderedDict()
    pending: deque[concurrent.futures.Future[BatchItem] | BatchItem | _Repeat] = deque()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nextcaller")
    try:
        for index, raw in enumerate(phones):
            raw = "" if raw is None else str(raw)
            try:
                parsed = parse_input(raw)
            except errors.UsageError as exc:  # InvalidPhoneError is one
                pending.append(BatchItem(index, raw, None, "invalid", error=exc))
            else:
                same = key(parsed)
                earlier = first.get(same)
                if earlier is not None:
                    first.move_to_end(same)
                    pending.append(_Repeat(earlier, index, raw))
                else:
                    future = pool.submit(_one, lookup, index, raw, parsed, refresh)
                    first[same] = future
                    if len(first) > memo_size:
                        first.popitem(last=False)
                    pending.append(future)
            while len(pending) >= limit or (pending and _ready(pending[0])):
                yield _resolve(pending.popleft())
        while pending:
            yield _resolve(pending.popleft())
    finally:
        for item in pending:
            if isinstance(item, concurrent.futures.Future):
                item.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def _one(lookup: Lookup, index: int, raw: str, parsed: Any, refresh: bool) -> BatchItem:
    number = parsed.number if isinstance(parsed, PhoneInput) else None
    try:
        result = lookup(parsed, refresh)
    except errors.NextCallerError as exc:
        return BatchItem(index, raw, number, "error", error=exc)
    return BatchItem(index, raw, number, "found" if result.found else "not_found", result=result)


@dataclass(frozen=True)
class _Repeat:
    """A later line asking for a number an earlier line already asked for."""

    original: concurrent.futures.Future[BatchItem]
    index: int
    input: str


def _ready(item: Any) -> bool:
    if isinstance(item, _Repeat):
        return item.original.done()
    return not isinstance(item, concurrent.futures.Future) or item.done()


def _resolve(item: Any) -> BatchItem:
    if isinstance(item, _Repeat):
        return replace(item.original.result(), index=item.index, input=item.input, duplicate=True)
    return item.result() if isinstance(item, concurrent.futures.Future) else item
