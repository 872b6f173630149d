"""The verbs of ``nextcaller-ops``, one module each (twine's layout).

Each module has ``add_parser(subparsers)``, which registers its verb(s) with
``set_defaults(run=...)``, and ``run(args) -> exit code``.  ``cli.main`` only
parses and dispatches.  Heavy imports stay inside ``run`` so ``--help`` is fast.
"""

from __future__ import annotations

from . import (
    account,
    audit,
    bot,
    cache,
    db,
    demo,
    forget,
    fraud,
    lookup,
    manifest,
    profile,
    sandbox,
    update,
    verify,
    webhooks,
)

# In the order `--help` lists them.
MODULES = (
    lookup,
    fraud,
    verify,
    profile,
    update,
    account,
    db,
    audit,
    forget,
    cache,
    sandbox,
    bot,
    webhooks,
    manifest,
    demo,
)

__all__ = ["MODULES"]
