"""HTTP Basic verification for the sandbox's v2.1: the API username and password.

The same accounts as v2: a consumer's key is its API username and its secret
its password (Next Caller's PHP client reads both from the same
``NC_API_KEY`` / ``NC_API_SECRET`` pair), so every seeded account, the status
accounts included, works on both versions.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from .store import Store

__all__ = ["BasicOutcome", "check_basic"]


@dataclass(frozen=True)
class BasicOutcome:
    username: str | None  # the account, when the header named a known one with the right password
    status: str | None  # the account's status ("active", "inactive"...) when accepted
    problem: str | None  # "missing", "oauth", "malformed" or "refused" when not accepted


def check_basic(authorization: str, store: Store) -> BasicOutcome:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if not scheme:
        return BasicOutcome(None, None, "missing")
    if scheme.lower() == "oauth":
        return BasicOutcome(None, None, "oauth")
    if scheme.lower() != "basic":
        return BasicOutcome(None, None, "missing")
    try:
        username, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return BasicOutcome(None, None, "malformed")
    if not sep or not username:
        return BasicOutcome(None, None, "malformed")
    found = store.consumer(username)
    # Compare even for an unknown username, so timing does not tell which part was wrong.
    expected = found[0] if found else "an-unknown-account-never-matches"
    if not hmac.compare_digest(password.encode(), expected.encode()) or found is None:
        return BasicOutcome(None, None, "refused")
    return BasicOutcome(username, found[1], None)
