"""Batch progress in a notebook that never leaves stale text behind.

A bar in a kernel is one display output (``display_id``) updated in place; at
the end it is *replaced* by the summary line.  A saved or exported notebook
therefore holds "195 lines: 187 found, …", never a frozen "68% 132/195" (a
``tqdm`` bar on stderr, or a widget that lost its state, would).

``%config NextCaller.progress``, like ``%%bigquery``'s ``progress_bar_type``:

* ``auto`` — a widget when ipywidgets is installed and this is a kernel, else
  the text bar in a kernel, else a ``tqdm`` bar on a terminal's stderr;
* ``widget`` — an ipywidgets bar (needs ipywidgets);
* ``text`` — an HTML ``<progress>`` with a plain-text fallback;
* ``none`` — no bar; the summary line still comes.
"""

from __future__ import annotations

import html
import importlib.util
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from ..api.render import FONT_CSS, TEXT_CSS
from ..batch.pace import progress_words
from ..batch.progress import TerminalProgress
from ..batch.run import BatchSummary, Progress

if TYPE_CHECKING:
    from ..rate.pacer import PacingState
from .words import stop_line

__all__ = ["PROGRESS_MODES", "make_progress", "have_widgets", "summary_bundle"]

PROGRESS_MODES = ("auto", "widget", "text", "none")
_EVERY = 0.25  # seconds between redraws: a kernel message per row would slow a big batch


def have_widgets() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def in_kernel(shell: Any) -> bool:
    return getattr(shell, "kernel", None) is not None


def make_progress(shell: Any, mode: str) -> Progress:
    """The progress for ``mode`` in this shell (see the module doc)."""
    kernel = in_kernel(shell)
    if mode == "auto":
        mode = ("widget" if have_widgets() else "text") if kernel else "terminal"
    if mode in ("widget", "text") and not kernel:
        mode = "terminal"  # a terminal cannot redraw a display in place
    if mode == "widget":
        return WidgetBar()
    if mode == "text":
        return TextBar()
    if mode == "terminal":
        return _Reported(TerminalProgress(sys.stderr, summary=False))
    return _Reported(None)


def summary_bundle(summary: BatchSummary) -> dict[str, str]:
    text = summary.text()
    return {
        "text/plain": text,
        "text/html": f'<div class="nextcaller-summary" style="{FONT_CSS};{TEXT_CSS}">{html.escape(text)}</div>',
    }


def _report(summary: BatchSummary, *, show_summary: bool) -> None:
    if show_summary:
        print(summary.text())
    line = stop_line(summary)
    if line:
        print(line, file=sys.stderr)


class _Reported:
    """A bar that is not a display (or none): the summary is printed after it."""

    def __init__(self, bar: TerminalProgress | None):
        self.bar = bar

    def start(self, total: int | None) -> None:
        if self.bar is not None:
            self.bar.start(total)

    def advance(self, done: int) -> None:
        if self.bar is not None:
            self.bar.advance(done)

    def finish(self, summary: BatchSummary) -> None:
        if self.bar is not None:
            self.bar.finish(summary)
        _report(summary, show_summary=True)


class _InPlace:
    """One display output, redrawn at most every ``_EVERY`` seconds, replaced by the summary at the end.

    Beside the count it shows the rate the API is paced at (the engine tells
    :meth:`paced`) and the time left at the pace so far.
    """

    def __init__(self) -> None:
        self.display_id = f"nextcaller-{uuid.uuid4().hex}"
        self.total = 0
        self._drawn = 0.0
        self._began = 0.0
        self._pace: str | None = None

    def start(self, total: int | None) -> None:
        from IPython.display import display

        self.total = total or 0
        self._began = time.monotonic()
        display(self._first(), display_id=self.display_id, raw=self._raw())
        self._drawn = time.monotonic()

    def paced(self, state: PacingState | None) -> None:
        """The rate kept now (the engine calls this at most once a second)."""
        self._pace = progress_words(state)

    def label(self, done: int) -> str:
        """``5/42 · paced at 4.8/s · about 8 s left``."""
        parts = [f"{done}/{self.total}" if self.total else str(done)]
        if self._pace:
            parts.append(self._pace)
        elapsed = time.monotonic() - self._began
        if self.total and 0 < done < self.total and elapsed > 0:
            parts.append(f"about {_duration((self.total - done) * elapsed / done)} left")
        return " · ".join(parts)

    def advance(self, done: int) -> None:
        now = time.monotonic()
        if now - self._drawn >= _EVERY:
            self._drawn = now
            self._draw(done)

    def finish(self, summary: BatchSummary) -> None:
        from IPython.display import update_display

        self._close()
        update_display(summary_bundle(summary), display_id=self.display_id, raw=True)
        _report(summary, show_summary=False)

    def _first(self) -> Any:
        raise NotImplementedError

    def _raw(self) -> bool:
        return True

    def _draw(self, done: int) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass


def _duration(seconds: float) -> str:
    seconds = max(1, round(seconds))
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"


class TextBar(_InPlace):
    def _bundle(self, done: int) -> dict[str, str]:
        total = max(self.total, 1)
        filled = round(24 * done / total)
        label = f"nextcaller {self.label(done)}"
        return {
            "text/plain": f"{label} [{'#' * filled}{'.' * (24 - filled)}]",
            "text/html": (
                f'<div style="{FONT_CSS}"><progress value="{done}" max="{total}" style="width:240px"></progress>'
                f" {html.escape(label)}</div>"
            ),
        }

    def _first(self) -> Any:
        return self._bundle(0)

    def _draw(self, done: int) -> None:
        from IPython.display import update_display

        update_display(self._bundle(done), display_id=self.display_id, raw=True)


class WidgetBar(_InPlace):
    def __init__(self) -> None:
        super().__init__()
        import ipywidgets as widgets

        self._bar = widgets.IntProgress(value=0, min=0, max=1, description="nextcaller")
        self._label = widgets.Label("")
        self._box = widgets.HBox([self._bar, self._label])

    def _first(self) -> Any:
        self._bar.max = max(self.total, 1)
        self._label.value = f"0/{self.total}"
        return self._box

    def _raw(self) -> bool:
        return False

    def _draw(self, done: int) -> None:
        self._bar.value = done
        self._label.value = self.label(done)

    def _close(self) -> None:
        # The widgets go (their layouts and styles are widgets too), so a saved notebook keeps no state of
        # them; the output that showed them is replaced by the summary.
        for widget in (self._bar, self._label, self._box):
            for part in (getattr(widget, "layout", None), getattr(widget, "style", None), widget):
                if part is not None:
                    part.close()
