"""What a magic's body needs from the ``NextCaller`` magics object: its settings and its clients.

The bodies (:mod:`.records`, :mod:`.tables`, :mod:`.accounts`) are typed
against this, so they never import :mod:`.magics`, which calls them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..client.client import NextCallerClient

__all__ = ["Magics"]


class Magics(Protocol):
    shell: Any
    profile: str
    concurrency: int
    progress: str
    display_limit: int
    return_dataframe: bool

    def _client(self, profile: str | None = None) -> NextCallerClient: ...

    def _store(self, name: str | None, value: Any) -> None: ...

    def _forget_clients(self) -> None: ...

    def _profile_name(self, given: str | None) -> str: ...
