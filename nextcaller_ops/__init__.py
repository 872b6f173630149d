"""nextcaller-ops: who is calling? The Next Caller caller-ID API for support and fraud teams.

>>> import nextcaller_ops
>>> with nextcaller_ops.NextCallerClient() as nc:                      # doctest: +SKIP
...     nc.lookup("(212) 555-8383").profiles[0].name
>>> calls = nextcaller_ops.enrich(calls, "phone")                     # doctest: +SKIP

The public face is re-exported here and imported on first use, so ``import
nextcaller_ops`` stays cheap: :class:`NextCallerClient`, :func:`enrich` and the
error classes of :mod:`nextcaller_ops.errors`.  The package's rooms, from the
surfaces down: ``cli/`` and ``notebook/`` (and the top-level ``bot`` package);
the flows (``batch/``, :mod:`.account`, :mod:`.corrections`, :mod:`.audit`);
``client/``; ``cache/`` and ``rate/``; :mod:`.credentials`; ``api/``, ``stores/``
and :mod:`.config`; :mod:`.errors`; :mod:`.redact`.  ``make lint`` checks that
layering (import-linter).  ``%load_ext nextcaller_ops`` loads the IPython magics.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _moved
from ._version import __version__

if TYPE_CHECKING:
    from .client.client import NextCallerClient

__all__ = [
    "__version__",
    "NextCallerClient",
    "enrich",
    "forget",
    "load_ipython_extension",
    "unload_ipython_extension",
]

# Old module names (nextcaller_ops.phone, …) keep importing for a release, with a DeprecationWarning.
_moved.install()


def _is_error_class(name: str) -> bool:
    # decided on the name alone: a sub-module's name (errors, api, …) must not import anything here, or
    # `from nextcaller_ops import errors` would come back to this function while errors.py is loading
    return name == "Action" or name.endswith("Error")


def __getattr__(name: str) -> Any:
    if name == "NextCallerClient":
        from .client.client import NextCallerClient

        return NextCallerClient
    if _is_error_class(name):
        errors = importlib.import_module(f"{__name__}.errors")
        if name in errors.__all__:
            return getattr(errors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    errors = importlib.import_module(f"{__name__}.errors")
    return sorted(set(globals()) | set(__all__) | {n for n in errors.__all__ if _is_error_class(n)})


def enrich(df: Any, column: str = "phone", **options: Any) -> Any:
    """``df`` with each row's caller profile beside its ``column`` number; see :mod:`nextcaller_ops.client.fanout.enrichment`.

    >>> calls = nextcaller_ops.enrich(calls, "phone", fields="name,carrier,fraud_threat")  # doctest: +SKIP
    """
    from .batch.enrichment import enrich as _enrich

    return _enrich(df, column, **options)


def forget(target: str, *, apply: bool = True, **options: Any) -> Any:
    """Remove one person (a number in any spelling, or an email) from every store this process reaches.

    >>> nextcaller_ops.forget("(212) 555-8383").counts                  # doctest: +SKIP
    {'audit log': 3, 'lookup cache': 1, ...}

    Returns a :class:`nextcaller_ops.forgetting.ForgetReport`; ``apply=False`` only counts.
    """
    from .forgetting import forget as _forget

    return _forget(target, apply=apply, **{"channel_id": "notebook", **options})


def load_ipython_extension(ipython: Any) -> None:  # pragma: no cover - exercised through a kernel
    from .notebook import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:  # pragma: no cover
    from .notebook import unload_ipython_extension as _unload

    _unload(ipython)
