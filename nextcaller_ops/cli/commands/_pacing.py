"""The CLI's words for the API pacing (:class:`~nextcaller_ops.rate.pacer.PacingState`): status and progress lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...rate.pacer import PacingState


def _rate(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def progress_words(state: PacingState | None) -> str | None:
    """``paced at 47.5/s`` for a progress bar, or None when nothing paces the requests."""
    if state is None or state.rate is None:
        return None
    return f"paced at {_rate(state.rate)}/s" + (" (backed off)" if state.factor < 1 else "")


def summary_words(state: PacingState | None) -> str | None:
    """`` — paced at 47.5 requests/s (the API's limit: 50/s)`` after a batch, or None."""
    if state is None or state.rate is None:
        return None
    why = _why(state)
    return f"paced at {_rate(state.rate)} requests/s" + (f" ({why})" if why else "")


def _why(state: PacingState) -> str:
    parts = []
    if state.max_rps is not None:
        parts.append(f"NEXTCALLER_OPS_MAX_RPS={_rate(state.max_rps)}")
    if state.limit is not None and state.limit_source == "api":
        parts.append(f"the API's limit: {_rate(state.limit)}/s")
    elif state.limit is not None:
        parts.append(f"the API named no limit; {_rate(state.limit)}/s drew a 429")
    if state.factor < 1:
        parts.append(f"backed off to {state.factor:.0%} after a 429, recovering")
    return "; ".join(parts)


def status_line(state: PacingState | None, *, asked: bool = True) -> str:
    """What ``status`` says about pacing (after its live check, which may have taught the limit; ``asked``)."""
    if state is None:
        return "off"
    if state.rate is None:
        said = "the API has named no rate limit" if asked else "no rate limit known (--offline: the API was not asked)"
        line = f"none: {said} (NEXTCALLER_OPS_MAX_RPS sets one)"
    else:
        line = f"{_rate(state.rate)} requests/s ({_why(state)})"
    if state.shared:
        line += " — shared in Redis by every process using this key"
    elif state.redis_down:
        line += " — in this process only: Redis is not answering"
    return line
