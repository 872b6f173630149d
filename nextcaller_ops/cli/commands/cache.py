"""``nextcaller-ops cache clear|info``: every lookup cache the configuration names.

That is the persistent SQLite file (``NEXTCALLER_CACHE_PATH``, or ``cache.sqlite3`` in the
data dir) and, with ``NEXTCALLER_OPS_REDIS_URL``, the shared cache in Redis (every account's
answers and the profile index under the prefix).  ``clear`` says how many entries went from
each; one person's entries go with ``nextcaller-ops forget``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "inspect or clear the lookup caches (the persistent file, and Redis when configured)"
    p = sub.add_parser("cache", help=text, description=text)
    p.set_defaults(run=run)
    p.add_argument("action", choices=("clear", "info"))
    p.add_argument("--profile")


def run(args: argparse.Namespace) -> int:
    from ...cache.memory import LookupCache
    from ...config import data_dir

    settings = c.settings(args)
    path = Path(settings.cache_path) if settings.cache_path else data_dir() / "cache.sqlite3"
    code = c.EXIT_OK
    if not path.exists():
        c.out(f"No persistent cache at {path}.")
    else:
        cache = LookupCache(path=path)
        try:
            if args.action == "clear":
                c.out(f"Cleared {cache.clear()} cached lookup(s) from {path}.")
            else:
                c.out(f"{path}: {len(cache)} live entries")
        finally:
            cache.close()
    if settings.redis_url:
        from ...cache.redis import clear_shared, count_shared
        from ...stores.redis import shared_redis

        shared = shared_redis(settings.redis_url, settings.redis_prefix)
        where = f"Redis (prefix {settings.redis_prefix})"  # never the URL: it may carry a password
        count = clear_shared(shared) if args.action == "clear" else count_shared(shared)
        if count is None:
            c.err(f"{where} did not answer: its cache was left as it is; try again once it is up.")
            code = c.EXIT_API
        elif args.action == "clear":
            c.out(f"Cleared {count} cached lookup(s) from {where}.")
        else:
            c.out(f"{where}: {count} live entries")
    return code
