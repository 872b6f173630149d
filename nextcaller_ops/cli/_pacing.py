"""The CLI's words for the API pacing: ``status``'s line (the batch words are :mod:`nextcaller_ops.batch.pace`'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..batch.pace import progress_words, rate_text, summary_words, why_words

if TYPE_CHECKING:
    from ..rate.pacer import PacingState

__all__ = ["progress_words", "summary_words", "status_line"]


def status_line(state: PacingState | None, *, asked: bool = True) -> str:
    """What ``status`` says about pacing (after its live check, which may have taught the limit; ``asked``)."""
    if state is None:
        return "off"
    if state.rate is None:
        said = "the API has named no rate limit" if asked else "no rate limit known (--offline: the API was not asked)"
        line = f"none: {said} (NEXTCALLER_OPS_MAX_RPS sets one)"
    else:
        line = f"{rate_text(state.rate)} requests/s ({why_words(state)})"
    if state.shared:
        line += " — shared in Redis by every process using this key"
    elif state.redis_down:
        line += " — in this process only: Redis is not answering"
    return line
