"""One streaming batch engine for every surface: the CLI's ``lookup --file``, ``%%nextcaller``, ``enrich()``.

:mod:`.run` (stop rules, counts, the summary), :mod:`.progress` (terminal progress and the hook a
surface supplies), :mod:`.frames` (rows as typed DataFrames, CSV/Parquet), :mod:`.enrichment`
(``enrich(df, column)``).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from .._moved import forward

    return forward(__name__, name)  # a name of nextcaller_ops.batch (the old fan-out module, now client.fanout)
