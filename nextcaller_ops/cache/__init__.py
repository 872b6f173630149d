"""The lookup cache and single-flight, each beside its twin: in this process | across processes (Redis).

:mod:`.memory` (TTL cache, optionally a private SQLite file), :mod:`.redis` (the same in Redis, with
a profile index), :mod:`.flight` (one request per number in this process), :mod:`.shared_flight`
(… across processes).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from .._moved import forward

    return forward(__name__, name)  # a name of nextcaller_ops.cache (the old module, now cache.memory)
