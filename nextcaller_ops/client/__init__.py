"""HTTP to the Next Caller API: the client, v2.1's additions, transport, signing, fan-out.

>>> from nextcaller_ops.client import NextCallerClient
>>> client = NextCallerClient.from_env()  # doctest: +SKIP

:mod:`.client` (lookups with cache and single-flight, corrections, check), :mod:`.v21` (by email,
by name and address, fraud, profile by id), :mod:`.transport` (session, retries, timeouts, answers
into errors), :mod:`.auth` (OAuth 1.0a | HTTP Basic), :mod:`.fanout` (ordered, de-duplicated,
bounded fan-out).  ``NextCallerClient`` is imported on first use, so importing a sibling stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import NextCallerClient

__all__ = ["NextCallerClient"]


def __getattr__(name: str) -> Any:
    if name == "NextCallerClient":
        from .client import NextCallerClient

        return NextCallerClient
    from .._moved import forward

    return forward(__name__, name)  # a name the old nextcaller_ops.client module had
