"""The ``nextcaller-ops`` command: :mod:`.main` parses and dispatches, :mod:`.commands` has one module per verb."""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def main(argv: Any = None) -> int:
    from .main import main as _main

    return _main(argv)
