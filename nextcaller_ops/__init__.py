"""nextcaller-ops: who is calling? The Next Caller caller-ID API for support and fraud teams.

The core (phone parsing, models, errors, credentials, the client) has no
front-end imports; ``%load_ext nextcaller_ops`` loads the IPython magics.
"""

from typing import Any

__version__ = "0.1.0"


def enrich(df: Any, column: str = "phone", **options: Any) -> Any:
    """``df`` with each row's caller profile beside its ``column`` number; see :mod:`nextcaller_ops.enrichment`.

    >>> calls = nextcaller_ops.enrich(calls, "phone", fields="name,carrier,fraud_threat")  # doctest: +SKIP
    """
    from .enrichment import enrich as _enrich

    return _enrich(df, column, **options)


def load_ipython_extension(ipython):  # pragma: no cover - exercised through a kernel
    from .notebook import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):  # pragma: no cover
    from .notebook import unload_ipython_extension as _unload

    _unload(ipython)
