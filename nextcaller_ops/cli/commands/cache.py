"""``nextcaller-ops cache clear|info``: the persistent lookup cache."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "inspect or clear the persistent lookup cache"
    p = sub.add_parser("cache", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("action", choices=("clear", "info"))
    p.add_argument("--profile")


def run(args: argparse.Namespace) -> int:
    from ...cache.memory import LookupCache
    from ...config import data_dir

    settings = c.settings(args)
    path = Path(settings.cache_path) if settings.cache_path else data_dir() / "cache.sqlite3"
    if not path.exists():
        c.out(f"No persistent cache at {path}.")
        return c.EXIT_OK
    cache = LookupCache(path=path)
    try:
        if args.action == "clear":
            c.out(f"Cleared {cache.clear()} cached lookup(s) from {path}.")
        else:
            c.out(f"{path}: {len(cache)} live entries")
    finally:
        cache.close()
    return c.EXIT_OK
