"""Old module names keep working for a release: ``nextcaller_ops.api.phone`` is ``nextcaller_ops.api.phone`` now.

The third wave put the flat modules into sub-packages.  Code written against the
old names (a notebook's ``from nextcaller_ops.phone import parse``) still imports,
with a :class:`DeprecationWarning` naming the new place (procrastinate's
``MovedElsewhere`` habit).  Four old modules share their name with a new package
(``client``, ``cache``, ``batch``, ``cli``): those packages forward the old
module's names through :func:`forward`.  Remove this module in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install", "forward"]

_P = "nextcaller_ops."
# old module -> new module
MOVED: dict[str, str] = {
    _P + old: _P + new
    for old, new in {
        "phone": "api.phone",
        "models": "api.models",
        "record_parts": "api.record_parts",
        "xmldoc": "api.xmldoc",
        "api_errors": "api.error_map",
        "queries": "api.queries",
        "fraud": "api.fraud",
        "correction_fields": "api.correction_fields",
        "text": "api.text",
        "render": "api.render",
        "client_v21": "client.v21",
        "transport": "client.transport",
        "auth": "client.auth",
        "redis_cache": "cache.redis",
        "flights": "cache.flight",
        "shared_flight": "cache.shared_flight",
        "pacing": "rate.pacer",
        "bucket": "rate.bucket",
        "shared_limits": "rate.redis",
        "batch_run": "batch.run",
        "progress": "batch.progress",
        "frames": "batch.frames",
        "enrichment": "batch.enrichment",
        "storage": "stores.private_db",
        "shared_redis": "stores.redis",
        "commands": "cli.commands",
        "demo": "cli.demo",
    }.items()
}
# old modules whose name is a package now: old module -> where its names went
_SHADOWED = {
    _P + "client": _P + "client.client",
    _P + "cache": _P + "cache.memory",
    _P + "batch": _P + "client.fanout",
    _P + "cli": _P + "cli.main",
}


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} moved to {new}; import it from there", DeprecationWarning, stacklevel=3)


class _Alias(importlib.abc.Loader):
    """Hands out the module at its new name: the same object under both names."""

    def __init__(self, new: str):
        self.new = new
        self._own_spec: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.new)
        self._own_spec = module.__spec__
        _warn(spec.name, self.new)
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib has just set the old name's spec on the module: give it back its own
        module.__spec__ = self._own_spec


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        new = _new_name(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(new))


def _new_name(old: str) -> str | None:
    for prefix, new in MOVED.items():
        if old == prefix or old.startswith(prefix + "."):
            return new + old[len(prefix) :]
    return None


_finder = _Finder()


def install() -> None:
    if _finder not in sys.meta_path:
        sys.meta_path.append(_finder)


def forward(package: str, name: str) -> Any:
    """``name`` from the old module the ``package`` replaced (with a warning), or AttributeError."""
    old_home = _SHADOWED.get(package)
    if old_home is not None and not name.startswith("__"):
        module = importlib.import_module(old_home)
        if hasattr(module, name):
            _warn(f"{package}.{name}", f"{old_home}.{name}")
            return getattr(module, name)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
