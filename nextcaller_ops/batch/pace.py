"""Words for the API pacing during and after a batch (:class:`~nextcaller_ops.rate.pacer.PacingState`).

Every surface says the same: the CLI's bar and summary line, the notebook's bar
and summary, ``enrich()``'s summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..rate.pacer import PacingState

__all__ = ["progress_words", "summary_words", "why_words", "rate_text"]


def rate_text(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def progress_words(state: PacingState | None) -> str | None:
    """``paced at 47.5/s`` for a progress bar, or None when nothing paces the requests."""
    if state is None or state.rate is None:
        return None
    return f"paced at {rate_text(state.rate)}/s" + (" (backed off)" if state.factor < 1 else "")


def summary_words(state: PacingState | None) -> str | None:
    """``paced at 47.5 requests/s (the API's limit: 50/s)`` after a batch, or None."""
    if state is None or state.rate is None:
        return None
    why = why_words(state)
    return f"paced at {rate_text(state.rate)} requests/s" + (f" ({why})" if why else "")


def why_words(state: PacingState) -> str:
    """Why the rate is what it is: NEXTCALLER_OPS_MAX_RPS, the API's limit (or one a 429 taught), a back-off."""
    parts = []
    if state.max_rps is not None:
        parts.append(f"NEXTCALLER_OPS_MAX_RPS={rate_text(state.max_rps)}")
    if state.limit is not None and state.limit_source == "api":
        parts.append(f"the API's limit: {rate_text(state.limit)}/s")
    elif state.limit is not None:
        parts.append(f"the API named no limit; {rate_text(state.limit)}/s drew a 429")
    if state.factor < 1:
        parts.append(f"backed off to {state.factor:.0%} after a 429, recovering")
    return "; ".join(parts)
