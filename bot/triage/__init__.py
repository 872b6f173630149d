"""Triage channels: the bot as a member of a team's triage channel (see README, "Triage channels").

:mod:`.intake` decides which messages are answered and finds their numbers,
:mod:`.service` looks them up within the channel's :mod:`.budget` and keeps one
threaded reply per message, :mod:`.cards` draws it, :mod:`.worker` retries what
the API failed or the budget paused.  State lives in a
:class:`~nextcaller_ops.stores.TriageStore`.
"""

from __future__ import annotations

from .intake import Message, read_message
from .service import Triage
from .worker import TriageWorker

__all__ = ["Message", "Triage", "TriageWorker", "read_message"]
