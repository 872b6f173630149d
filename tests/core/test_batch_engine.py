"""The one batch engine (batch_run) over a client that offers only the public face: rules, counts, streaming.

``PublicOnlyClient`` has no transport, no settings, no pacer: any attribute the engine reached for
beyond :class:`~nextcaller_ops.client.fanout.run.BatchClient` fails the test naming it.  Its lookups answer
at once; what a test checks is order, counts and which lookups were asked, never timing.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from nextcaller_ops import errors
from nextcaller_ops.api.fraud import FraudLevel
from nextcaller_ops.api.models import LookupResult, Profile
from nextcaller_ops.api.phone import PhoneInput, parse
from nextcaller_ops.batch.run import BatchSummary, email_lookups, phone_and_fraud_lookups, run_batch, stream_batch
from nextcaller_ops.client.fanout import BatchPlan
from nextcaller_ops.rate.pacer import PacingState
from nextcaller_ops.sandbox import synthetic_phone

MISSING = "2025550999"
PACED = PacingState(rate=4.75, limit=5, limit_source="api", max_rps=None)


class PublicOnlyClient:
    """What a batch may use of a client, and nothing else."""

    def __init__(self, *, refuse: bool = False, api_version: str = "v2.1", width: int = 3):
        self.api_version = api_version
        self.refuse = refuse
        self.width = width
        self.plans: list[int | None] = []
        self.asked: list[str] = []
        self._sent = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str):  # only called for what the class does not have
        raise AssertionError(f"the batch engine reached for client.{name}, which is not the public face")

    @property
    def requests_sent(self) -> int:
        return self._sent

    def batch_plan(self, concurrency: int | None = None) -> BatchPlan:
        self.plans.append(concurrency)
        return BatchPlan(width=concurrency or self.width, memo_size=100)

    def pacing_state(self) -> PacingState | None:
        return PACED

    def _answer(self, asked: str, phone: str) -> LookupResult:
        with self._lock:
            self._sent += 1
            self.asked.append(asked)
        if self.refuse:
            raise errors.AuthError("consumer key refused", code=1046, status=401)
        if asked == MISSING:
            return LookupResult(phone, ())
        return LookupResult(phone, (Profile(id="a" * 30, first_name=asked),))

    def lookup(self, phone: str | PhoneInput, *, refresh: bool = False) -> LookupResult:
        parsed = phone if isinstance(phone, PhoneInput) else parse(phone)
        return self._answer(parsed.number, parsed.number)

    def lookup_email(self, email: str, *, refresh: bool = False) -> LookupResult:
        result = self._answer(email, "")
        return LookupResult("", result.profiles, query=email)

    def lookup_with_fraud(self, phone: PhoneInput, *, refresh: bool = False) -> LookupResult:
        result = self.lookup(phone, refresh=refresh)
        return LookupResult(result.phone, result.profiles, fraud=FraudLevel(phone.number, "false", "low"))


class Recorded:
    """A progress that keeps what it was told."""

    def __init__(self) -> None:
        self.total: int | None = -1
        self.advanced: list[int] = []
        self.finished: BatchSummary | None = None

    def start(self, total: int | None) -> None:
        self.total = total

    def advance(self, done: int) -> None:
        self.advanced.append(done)

    def finish(self, summary: BatchSummary) -> None:
        self.finished = summary


def test_a_client_with_only_the_public_face_runs_a_batch():
    client = PublicOnlyClient()
    progress = Recorded()
    inputs = ["2125558383", "bogus", MISSING, "(212) 555-8383", "3125550142"]
    items, summary = run_batch(client, inputs, concurrency=2, progress=progress)
    assert [i.status for i in items] == ["found", "invalid", "not_found", "found", "found"]
    assert [i.input for i in items] == inputs and items[3].duplicate
    assert client.plans == [2]  # the fan-out was sized by the client, for the concurrency asked
    assert sorted(client.asked) == sorted(["2125558383", MISSING, "3125550142"])
    assert (summary.lines, summary.done, summary.found, summary.not_found, summary.invalid) == (5, 5, 3, 1, 1)
    assert summary.duplicates == 1 and summary.requests == 3 and summary.pacing == PACED
    assert summary.by_status() == {"found": 3, "not_found": 1, "invalid": 1}
    assert progress.total == 5 and progress.advanced == [1, 2, 3, 4, 5] and progress.finished is summary


def test_the_v21_questions_run_on_the_public_face_and_are_refused_on_v2_before_any_request():
    client = PublicOnlyClient()
    items, summary = run_batch(
        client, ["Demo@Example.com", "not an address", "demo@example.com"], question=email_lookups(client)
    )
    assert [i.status for i in items] == ["found", "invalid", "found"] and items[2].duplicate
    assert client.asked == ["Demo@Example.com"] and summary.requests == 1
    items, _ = run_batch(client, ["2125558383"], question=phone_and_fraud_lookups(client))
    assert items[0].result.fraud.fraud_risk == "low"
    old = PublicOnlyClient(api_version="v2")
    for question in (email_lookups, phone_and_fraud_lookups):
        with pytest.raises(errors.NeedsNewerAPIError):
            question(old)
    assert old.asked == [] and old.plans == []


def test_rows_stream_in_input_order_while_the_input_is_still_being_read():
    client = PublicOnlyClient(width=2)
    pulled: list[int] = []

    def lines():
        for i in range(10_000):
            pulled.append(i)
            yield synthetic_phone(i)

    progress = Recorded()
    with stream_batch(client, lines(), total=10_000, progress=progress) as run:
        rows = iter(run)
        first = next(rows)
        assert first.index == 0 and first.phone == synthetic_phone(0)
        assert len(pulled) <= 8  # a window of 4 x the width, not the whole input
        rest = [item.index for item in rows]
    assert rest == list(range(1, 10_000))
    assert progress.total == 10_000 and run.summary.lines == 10_000 and run.summary.found == 10_000


def test_a_refused_key_stops_the_run_at_its_line_and_sends_nothing_more():
    client = PublicOnlyClient(refuse=True)
    progress = Recorded()
    numbers = [synthetic_phone(i) for i in range(40)]
    with stream_batch(client, numbers, concurrency=1, progress=progress) as run:
        rows = list(run)
    assert [r.index for r in rows] == [0] and isinstance(rows[0].error, errors.AuthError)
    assert len(client.asked) == 1  # the lines queued behind it were not sent
    summary = run.summary
    assert summary.stopped_by is rows[0].error and summary.stopped_at == 1 and not summary.interrupted
    assert progress.finished is summary and "stopped at line 1, 39 lines not looked up" in summary.text()


def test_ctrl_c_inside_the_loop_ends_the_run_keeping_the_rows_done():
    client = PublicOnlyClient(width=1)
    progress = Recorded()
    kept = []
    with stream_batch(client, [synthetic_phone(i) for i in range(50)], progress=progress) as run:
        for item in run:
            kept.append(item)
            if len(kept) == 2:
                raise KeyboardInterrupt  # the person presses Ctrl-C while a row is being written
    assert len(kept) == 2 and run.summary.interrupted and run.summary.done == 2
    assert progress.finished is run.summary and "interrupted: 2 of 50 done" in run.summary.text()
    assert len(client.asked) < 50  # what had not started was cancelled


def test_ctrl_c_while_waiting_for_a_row_ends_the_run_keeping_the_rows_done():
    client = PublicOnlyClient(width=1)
    answered = client.lookup

    def lookup(phone, *, refresh=False):
        if str(phone) == synthetic_phone(2):
            raise KeyboardInterrupt
        return answered(phone, refresh=refresh)

    client.lookup = lookup
    items, summary = run_batch(client, [synthetic_phone(i) for i in range(6)])
    assert [i.index for i in items] == [0, 1] and summary.interrupted and summary.lines == 6


def test_an_unexpected_error_finishes_the_progress_and_propagates():
    client = PublicOnlyClient()
    progress = Recorded()

    def broken(phone, *, refresh=False):
        raise RuntimeError("a bug")

    client.lookup = broken
    with pytest.raises(RuntimeError), stream_batch(client, ["2125558383"], progress=progress) as run:
        list(run)
    assert progress.finished is not None and progress.finished.interrupted and progress.finished.done == 0


def test_a_run_is_iterated_inside_its_with_block():
    with pytest.raises(RuntimeError, match="with stream_batch"):
        list(stream_batch(PublicOnlyClient(), ["2125558383"]))


def test_the_real_client_offers_the_public_face(client):
    plan = client.batch_plan(None)
    assert plan == BatchPlan(width=client.settings.concurrency, memo_size=client.settings.cache_max_entries)
    assert client.batch_plan(32).width == 32 and client.batch_plan(0).width == client.settings.concurrency
    items, summary = run_batch(client, ["2125558383", "212-555-8383", MISSING], concurrency=2)
    assert [i.status for i in items] == ["found", "found", "not_found"]
    assert summary.requests == client.requests_sent == 2
    # the pacing the client reports (its rate may move between two asks while a slow start feels its way up)
    assert summary.pacing is not None and replace(summary.pacing, rate=None) == replace(
        client.pacing_state(), rate=None
    )
