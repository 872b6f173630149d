"""The process's Prometheus metrics, and a no-op stand-in when ``prometheus-client`` is not installed.

The core records what it sees through the names below (``metrics.API_RESPONSES.labels(status="429").inc()``)
and never needs the library: it comes with the ``[slack]`` extra, since only the bot serves ``/metrics``;
without it every metric here accepts the same calls and does nothing.

Labels hold fixed vocabularies only (a surface, an outcome, an HTTP status, a Slack request kind): never a
phone number, an email, a Slack user id or anything a person typed.

Several processes (gunicorn workers) are one bot: with ``PROMETHEUS_MULTIPROC_DIR`` set before the first
import (``deploy/gunicorn.conf.py`` does), each process writes its values to files there and
:func:`exposition` sums them; the gauges say how (``multiprocess_mode``).  Values read from the shared
stores at scrape time (the outbox's depth and age, triage items by state) come from whoever scrapes, as
one reading: see :func:`exposition`'s ``extra``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "AVAILABLE",
    "LOOKUPS",
    "API_SECONDS",
    "API_RESPONSES",
    "PACING_RATE",
    "CACHE",
    "FLIGHT_JOINS",
    "SLACK_ACK",
    "STORE_ERRORS",
    "lookup",
    "set_surface",
    "surface",
    "outcome_of",
    "exposition",
    "CONTENT_TYPE",
]

try:
    import prometheus_client as _prom
except ImportError:  # the core without the [slack] extra: every metric below is a no-op
    _prom = None  # type: ignore[assignment]

AVAILABLE = _prom is not None
if _prom is not None:
    _prom.disable_created_metrics()  # the *_created series only double what a scrape reads
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: an API answer takes tens of milliseconds to a few seconds (timeouts are 10-30 s).
_API_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Slack gives 3 s to acknowledge: the buckets are finer below that, and 3 s is one of them.
_ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class _Noop:
    """Accepts what a Counter, Gauge or Histogram accepts; records nothing."""

    def labels(self, *args: Any, **kwargs: Any) -> _Noop:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


def _counter(name: str, doc: str, labels: Iterable[str]) -> Any:
    return _prom.Counter(name, doc, list(labels)) if _prom else _Noop()


def _histogram(name: str, doc: str, labels: Iterable[str], buckets: tuple[float, ...]) -> Any:
    return _prom.Histogram(name, doc, list(labels), buckets=buckets) if _prom else _Noop()


def _gauge(name: str, doc: str, labels: Iterable[str], mode: Any) -> Any:
    return _prom.Gauge(name, doc, list(labels), multiprocess_mode=mode) if _prom else _Noop()


LOOKUPS = _counter(
    "nextcaller_ops_lookups_total",
    "Lookups answered, by surface (slack, cli, notebook, library) and outcome (found, no_record, error)",
    ("surface", "outcome"),
)
API_SECONDS = _histogram(
    "nextcaller_ops_api_request_seconds",
    "Time for one HTTP request to the API (each attempt)",
    ("method",),
    _API_BUCKETS,
)
API_RESPONSES = _counter(
    "nextcaller_ops_api_responses_total",
    "The API's answers by HTTP status (429 included); 'timeout' and 'unreachable' when there was none",
    ("status",),
)
# The rate the last request was paced at, requests per second (0: no limit known).  The most recent
# value among the live processes: with Redis they share one budget, so any of them says it.
PACING_RATE = _gauge(
    "nextcaller_ops_pacing_rate", "Requests per second the API pacing holds to (0: no limit)", (), "livemostrecent"
)
CACHE = _counter("nextcaller_ops_cache_total", "Lookup cache reads by result (hit, miss)", ("backend", "result"))
FLIGHT_JOINS = _counter(
    "nextcaller_ops_singleflight_joins_total",
    "Lookups that waited for the same number's request already under way instead of sending their own",
    ("scope",),
)
SLACK_ACK = _histogram(
    "nextcaller_ops_slack_ack_seconds",
    "Time from Slack's request reaching the bot to its acknowledgement",
    ("kind",),
    _ACK_BUCKETS,
)
STORE_ERRORS = _counter(
    "nextcaller_ops_store_errors_total", "Failed calls to the shared stores, by store (redis, postgresql)", ("store",)
)

_OUTCOMES = {"no record": "no_record", "error": "error"}


def outcome_of(audited: str) -> str:
    """The label for an audit outcome: ``found 2`` -> ``found``, ``paused: channel budget`` -> ``paused``."""
    if audited.startswith("found"):
        return "found"
    if audited.startswith("paused"):
        return "paused"
    if audited.startswith("refused"):
        return "refused"
    return _OUTCOMES.get(audited, "other")


_NAME = re.compile(r"[a-z_]{1,40}")
_surface = "library"  # who looks numbers up in this process: the bot says "slack" at start (set_surface)


def set_surface(name: str) -> None:
    """Name this process's surface (``slack``, ``cli``, ``notebook``) for the lookups it counts."""
    global _surface
    _surface = name if _NAME.fullmatch(name) else "other"


def surface() -> str:
    return _surface


def lookup(surface: str, audited_outcome: str) -> None:
    """Count one lookup; ``surface`` is a fixed word (:func:`surface`), never a person's id."""
    LOOKUPS.labels(surface=surface if _NAME.fullmatch(surface) else "other", outcome=outcome_of(audited_outcome)).inc()


Family = Any  # prometheus_client.core.Metric


def _extra_collector(extra: Callable[[], Mapping[str, Any]]) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    class _Readings:
        """The stores' state, read once per scrape (the same in every process: no sum across workers)."""

        def collect(self) -> Iterable[Family]:
            readings = extra()
            for name, (doc, value) in readings.items():
                if isinstance(value, Mapping):  # one label: {label_name: {label_value: number}}
                    ((label, values),) = value.items()
                    family = GaugeMetricFamily(name, doc, labels=[label])
                    for label_value, number in values.items():
                        family.add_metric([label_value], number)
                else:
                    family = GaugeMetricFamily(name, doc, value=value)
                yield family

    return _Readings()


def exposition(extra: Callable[[], Mapping[str, Any]] | None = None) -> bytes:
    """The text a ``/metrics`` scrape gets: every process's metrics (summed in multiprocess mode) and ``extra``.

    ``extra()`` returns ``{name: (help, value)}`` where value is a number or ``{label: {value: number}}``.
    """
    if _prom is None:
        return b"# prometheus-client is not installed: pip install 'nextcaller-ops[slack]'\n"
    from prometheus_client import CollectorRegistry, generate_latest

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # every live and dead worker's files, summed
    else:
        registry = _prom.REGISTRY  # this process's own metrics
    text = generate_latest(registry)
    if extra is not None:
        readings = CollectorRegistry()
        readings.register(_extra_collector(extra))
        text += generate_latest(readings)
    return text
