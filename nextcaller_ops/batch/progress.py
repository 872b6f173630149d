"""Progress for batches outside a notebook surface, and the hook a surface uses to supply its own.

:func:`default_progress` is what :func:`nextcaller_ops.enrich` uses when no
progress is given: the notebook extension installs its own factory when it is
loaded (a bar that ends as the summary line), so the core never imports IPython;
otherwise a ``tqdm`` bar on a terminal's stderr and the summary line after it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from .run import BatchSummary, NoProgress, Progress

__all__ = ["TerminalProgress", "default_progress", "set_default_progress", "NoProgress", "Progress"]


class TerminalProgress:
    """A ``tqdm`` bar on stderr when it is a terminal (it disappears at the end), then the summary line.

    ``note()``, when given, is shown after the bar, asked at most once a second
    (the CLI shows the rate it is paced at); ``summary=False`` leaves the
    summary to the surface (the CLI words its own).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        summary: bool = True,
        desc: str = "nextcaller",
        note: Callable[[], str | None] | None = None,
    ):
        self.stream = stream or sys.stderr
        self.summary = summary
        self.desc = desc
        self.note = note
        self._bar: Any = None
        self._noted = 0.0

    def start(self, total: int | None) -> None:
        isatty = getattr(self.stream, "isatty", None)
        if isatty is not None and isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="num", desc=self.desc, leave=False, file=self.stream)

    def advance(self, done: int) -> None:
        if self._bar is None:
            return
        self._bar.update(done - self._bar.n)
        if self.note is not None and time.monotonic() - self._noted >= 1.0:
            self._noted = time.monotonic()
            self._bar.set_postfix_str(self.note() or "", refresh=False)

    def finish(self, summary: BatchSummary) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self.summary:
            print(summary.text(), file=self.stream)
            if summary.stopped_by is not None:
                print(f"stopped: {summary.stopped_by} (every further line would fail the same way)", file=self.stream)


_factory: Callable[[], Progress] | None = None


def set_default_progress(factory: Callable[[], Progress] | None) -> None:
    """Install (or, with None, remove) the progress a surface wants for calls that name none."""
    global _factory
    _factory = factory


def default_progress() -> Progress:
    return _factory() if _factory is not None else TerminalProgress()
