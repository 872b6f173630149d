"""Single-flight in one process: threads asking for the same key at once share one call.

The first caller (the leader) runs the function; the others wait for its
result or its exception.  Across processes, :mod:`.shared_flight` does the same
through Redis.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from .. import metrics

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight[T]] = {}

    def run(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        """``fn()``'s result, and True when this call ran it (False: another thread's answer)."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            metrics.FLIGHT_JOINS.labels(scope="process").inc()
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result, False  # type: ignore[return-value]  # set by the leader before done
        try:
            flight.result = fn()
            return flight.result, True
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
