"""A watched channel's lookup budget: at most N numbers fetched from the API per minute.

What costs is a number the cache does not hold; a number fetched in this window
is free again (the cache has it, or single-flight is fetching it), so a burst
repeating 20 numbers costs 20.  Over the budget, a lookup waits (the reply says
it is paused) and is done when the window has room.  Per process, in memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["ChannelBudget"]


class ChannelBudget:
    def __init__(self, per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._spent: dict[str, OrderedDict[str, float]] = {}  # channel -> number -> when it was charged

    def wait_time(self, channel_id: str, number: str, *, cached: bool) -> float:
        """0 when ``number`` may be looked up now (charging it unless cached); else seconds until it may."""
        if self.per_minute <= 0 or cached:
            return 0.0
        now = self._clock()
        with self._lock:
            spent = self._spent.setdefault(channel_id, OrderedDict())
            while spent and now - next(iter(spent.values())) >= self.window:
                spent.popitem(last=False)
            if number in spent:
                return 0.0
            if len(spent) >= self.per_minute:
                return self.window - (now - next(iter(spent.values())))
            spent[number] = now
            return 0.0
