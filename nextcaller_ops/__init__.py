"""nextcaller-ops: who is calling? The Next Caller caller-ID API for support and fraud teams.

The core (phone parsing, models, errors, credentials, the client) has no
front-end imports; ``%load_ext nextcaller_ops`` loads the IPython magics.
"""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # pragma: no cover - exercised through a kernel
    from .notebook import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):  # pragma: no cover
    from .notebook import unload_ipython_extension as _unload

    _unload(ipython)
