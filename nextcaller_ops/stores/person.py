"""One person to forget, as every store can recognise them: numbers, addresses, profile ids.

A store holds a person in text of many shapes: a phone column (``2125558383``),
a detail or a JSON card (``(212) 555-8383``, ``+1 212-555-8383``), a cache key
(``email:jane@example.com``), a de-dup key.  :meth:`Person.mentions` finds any of
them in any text: a number in any punctuation (a masked ``212***8383`` is not the
number), an address or profile id in any case.  The stores' ``forget`` methods
ask it of each row that could hold the person (:mod:`nextcaller_ops.forgetting` is the
flow that calls them all).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Person", "REDACT", "CANCELLED"]

# A triage item whose Slack reply still shows the person: its text is gone from the store, and the
# running bot edits the reply to one line, then deletes the row (``TriageStore.redactions``).
REDACT = "redact"

# An outbox row whose correction was for a forgotten person: its body is gone, never delivered; the
# running bot tells the agent who submitted it, then deletes the row (``OutboxStore.cancelled``).
CANCELLED = "cancelled"

# A North American number in any punctuation: 2125558383, 212-555-8383, (212) 555-8383, +1 212.555.8383.
_NUMBER = re.compile(r"(?<!\d)(?:\+?1[\s.\-]*)?\(?(\d{3})\)?[\s.\-]*(\d{3})[\s.\-]*(\d{4})(?!\d)")


@dataclass(frozen=True)
class Person:
    """What identifies one person's data: 10-digit ``phones``, lower-case ``words`` (emails, profile ids).

    ``exact``: values a key column may hold instead of the number (its keyed hash, when the
    audit log keeps hashes) — matched whole, never inside other text.
    """

    phones: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    exact: frozenset[str] = field(default=frozenset())

    def __bool__(self) -> bool:
        return bool(self.phones or self.words)

    def widened(self, *, phones: set[str] | None = None, words: set[str] | None = None) -> Person:
        return Person(self.phones | frozenset(phones or ()), self.words | frozenset(words or ()), self.exact)

    def is_phone(self, value: str | None) -> bool:
        """A phone column's value: the number itself (any spelling) or one of its exact stand-ins."""
        if not value:
            return False
        return value in self.exact or value in self.phones or self.mentions(value)

    def mentions(self, text: str | None) -> bool:
        """Whether ``text`` holds one of the numbers (any punctuation) or words (any case)."""
        if not text:
            return False
        if self.phones and any("".join(m.groups()) in self.phones for m in _NUMBER.finditer(text)):
            return True
        if self.words:
            lowered = text.casefold()
            return any(word in lowered for word in self.words)
        return False
