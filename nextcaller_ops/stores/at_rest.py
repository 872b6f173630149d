"""How the audit log keeps numbers at rest: ``NEXTCALLER_OPS_AUDIT_NUMBERS=full|masked|hash``.

* ``full`` (the default): the 10-digit number, so ``audit --phone N`` answers "who looked N up?".
* ``masked``: ``212***8383``, as the logs show it; no query can find one number's rows any more.
* ``hash``: ``hmac:`` and a keyed HMAC-SHA256 of the number; ``audit --phone N`` hashes N and
  still finds its rows, but the log alone never gives a number back.

The key is ``NEXTCALLER_OPS_AUDIT_KEY`` or the keyring's (made on first use):
:func:`nextcaller_ops.credentials.audit_key` registers itself here (this layer cannot reach
the keyring).  The same keyed hash names a forgotten number (``nextcaller-ops forget``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from ..errors import UsageError
from ..redact import mask_phone

__all__ = ["MODES", "mode", "keyed_hash", "at_rest", "query_for", "set_key_provider"]

MODES = ("full", "masked", "hash")
ENV = "NEXTCALLER_OPS_AUDIT_NUMBERS"
KEY_ENV = "NEXTCALLER_OPS_AUDIT_KEY"

_provider: Callable[[], bytes] | None = None


def set_key_provider(provider: Callable[[], bytes]) -> None:
    """Where the key comes from when ``NEXTCALLER_OPS_AUDIT_KEY`` is unset (the keyring)."""
    global _provider
    _provider = provider


def mode() -> str:
    value = (os.environ.get(ENV) or "full").strip().lower()
    if value not in MODES:
        raise UsageError(f"{ENV} is {value[:20]!r}", hint="set it to full, masked or hash (or unset it: full)")
    return value


def _key() -> bytes:
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    if _provider is None:
        raise UsageError("no key for the audit log's keyed hashes", hint=f"set {KEY_ENV}")
    return _provider()


def keyed_hash(value: str) -> str:
    """``hmac:`` + the first 32 hex digits of HMAC-SHA256(key, value): the same value, the same text."""
    return "hmac:" + hmac.new(_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def at_rest(phone: str | None) -> str | None:
    """What the audit log writes in its phone column for ``phone``, as the mode says."""
    if not phone or phone.startswith("hmac:"):  # already a keyed hash (a forget record's)
        return phone
    chosen = mode()
    if chosen == "masked":
        return mask_phone(phone)
    if chosen == "hash":
        return keyed_hash(phone)
    return phone


def query_for(phone: str) -> list[str]:
    """The phone column's values ``phone``'s rows may hold (rows written before a switch to hash too);
    a UsageError when the log keeps numbers masked (no query can find one number's rows)."""
    if phone.startswith("hmac:"):  # a keyed hash already (a forget record's)
        return [phone]
    chosen = mode()
    if chosen == "masked":
        raise UsageError(
            f"the audit log keeps numbers masked ({ENV}=masked): one number's rows cannot be found",
            hint="search by --user or --since instead",
        )
    return [phone, keyed_hash(phone)] if chosen == "hash" else [phone]
