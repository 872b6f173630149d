"""The verbs of ``nextcaller-ops``, one module each (twine's layout).

Each module has ``add_parser(subparsers)``, which registers its verb(s) with
``set_defaults(run=...)``, and ``run(args) -> exit code``.  ``cli.main`` only
parses and dispatches.  Heavy imports stay inside ``run`` so ``--help`` is fast.
"""

from __future__ import annotations

from . import account, audit, bot, cache, demo, forget, fraud, lookup, manifest, profile, sandbox, update, verify

# In the order `--help` lists them.
MODULES = (lookup, fraud, verify, profile, update, account, audit, forget, cache, sandbox, bot, manifest, demo)

__all__ = ["MODULES"]
