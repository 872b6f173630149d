"""IPython magics for Next Caller lookups.

Load with ``%load_ext nextcaller_ops``, then (each magic takes ``--help``; ``%nextcaller?`` too)::

    %nextcaller 212-555-8383                # the caller's card (HTML in Jupyter, text in a terminal)
    r = %nextcaller (212) 555-8383 --refresh
    %nextcaller 2125558383 --format json    # the API's own document, shown as JSON

    %%nextcaller -o calls --to calls.csv    # one number per line -> a DataFrame, in order; -o: only the summary
    2125558383
    (312) 555-0142   # comments and blank lines are ignored

    %nextcaller_enrich df --column phone --fields name,carrier,fraud_threat   # the profile beside each row
    %nextcaller_update 97d949a413f4ea8b85e9586e1f2d9a email=jerry@example.com --dry-run
    %nextcaller_login --profile work        # asks for the key and secret, stores them in the OS keyring
    %nextcaller_logout --profile work
    %nextcaller_status

    %config NextCaller.concurrency = 16     # also: profile, cache_ttl, return_dataframe, progress, display_limit

Errors are one line (IPython's ``UsageError``), never a traceback, never a secret.
"""

from __future__ import annotations

from typing import Any

from ..batch.progress import set_default_progress
from .magics import MAGIC_NAMES, NextCaller
from .progress import make_progress
from .results import CallerResult, CorrectionResult

__all__ = ["NextCaller", "CallerResult", "CorrectionResult", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    from ..errors import NextCallerError
    from ..redact import install
    from ..settings_names import check_environment
    from .words import usage_error

    try:  # a misspelt NEXTCALLER_OPS_* setting: one line, and nothing loaded until it is fixed
        check_environment()
    except NextCallerError as exc:
        raise usage_error(exc) from None
    install()  # no secret or full phone number in any log record of this kernel
    magics = NextCaller(shell=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    # nextcaller_ops.enrich(df, ...) called in this kernel shows the same bar and summary as the magics
    set_default_progress(lambda: make_progress(ipython, magics.progress))


def unload_ipython_extension(ipython: Any) -> None:
    set_default_progress(None)
    for magics in [m for m in ipython.configurables if isinstance(m, NextCaller)]:
        magics._forget_clients()
        ipython.configurables.remove(magics)
    registry = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        for name in MAGIC_NAMES:
            registry[kind].pop(name, None)
