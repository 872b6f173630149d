"""Verifying a caller: what the caller claims (name, ZIP, email, street) against the record.

Pure, and the one place the comparison lives: the bot's *Verify caller* modal, the
CLI's ``verify`` verb and the notebook's ``%nextcaller_verify`` all call
:func:`verify`.  Each claimed field gets a verdict, and the whole an overall one:

- case and accents never count (Unicode NFKD, combining marks dropped, case-folded),
  nor punctuation or runs of spaces;
- a name matches when the claimed words are the record's first and last names (in any
  order, the record's middle name allowed); it is *partial* when only some words are the
  record's ("Bob Smith" for Robert Smith: no nickname is ever guessed);
- a ZIP is 5 digits (a ZIP+4 is read as its first 5), equal or not;
- an email is case-folded and equal, or *partial* when only the part before the @ is;
- a street matches when the house number and the street's words are the record's
  (the usual USPS abbreviations are the same word: Street = St); *partial* when only
  the number or only the street's words are.

A record may hold several people and addresses: each field's verdict is the best over
them.  The overall verdict is a match only when every field given matched, no match when
none matched even in part, partial otherwise.  Nothing typed is kept in the result:
only the verdicts (the audit log keeps those and nothing else).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import Profile

__all__ = [
    "MATCH",
    "PARTIAL",
    "NO_MATCH",
    "NOT_ON_RECORD",
    "FIELDS",
    "FieldVerdict",
    "Verification",
    "InvalidClaim",
    "verify",
    "fold",
]

MATCH, PARTIAL, NO_MATCH, NOT_ON_RECORD = "match", "partial", "no match", "not on record"
FIELDS = ("name", "zip", "email", "street")
_RANK = {MATCH: 3, PARTIAL: 2, NO_MATCH: 1, NOT_ON_RECORD: 0}

# USPS street suffixes and directions people write either way; words, not nicknames.
_STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "ter",
    "parkway": "pkwy",
    "highway": "hwy",
    "square": "sq",
    "circle": "cir",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "apartment": "apt",
    "suite": "ste",
}


class InvalidClaim(ValueError):
    """A claimed value that cannot be compared (a ZIP that is not 5 digits); names the field."""

    def __init__(self, field: str, why: str):
        super().__init__(f"{field}: {why}")
        self.field = field


@dataclass(frozen=True)
class FieldVerdict:
    field: str  # one of FIELDS
    verdict: str  # MATCH, PARTIAL, NO_MATCH or NOT_ON_RECORD


@dataclass(frozen=True)
class Verification:
    fields: tuple[FieldVerdict, ...]  # the fields given, in FIELDS order
    overall: str  # MATCH, PARTIAL or NO_MATCH

    @property
    def full_match(self) -> bool:
        return self.overall == MATCH

    def as_dict(self) -> dict[str, str]:
        """``{"name": "match", …, "overall": "partial"}``: what the audit log and JSON output keep."""
        return {**{f.field: f.verdict for f in self.fields}, "overall": self.overall}


def fold(text: str) -> str:
    """Case, accents and punctuation out: 'José  O’Brien' -> 'jose o brien'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def _words(text: str) -> list[str]:
    return fold(text).split()


def _name_verdict(claimed: str, profiles: Sequence[Profile]) -> str:
    said = set(_words(claimed))
    best = NOT_ON_RECORD
    for p in profiles:
        first, last = _words(p.first_name), _words(p.last_name)
        if not first and not last:
            first_last = _words(p.name)
            first, last = first_last[:1], first_last[1:]
        if not first and not last:
            continue
        whole = set(_words(p.name)) | set(first) | set(last)  # the full name may carry a middle name
        if said and set(first) | set(last) <= said and said <= whole:
            verdict = MATCH
        elif said & whole:
            verdict = PARTIAL
        else:
            verdict = NO_MATCH
        best = max(best, verdict, key=_RANK.__getitem__)
    return best


def _zip5(text: str, field: str = "zip") -> str:
    digits = re.sub(r"\D", "", text)
    if len(digits) not in (5, 9) or not re.fullmatch(r"\s*\d{5}(\s*-?\s*\d{4})?\s*", text):
        raise InvalidClaim(field, "a ZIP is 5 digits (or ZIP+4, e.g. 10024-1234)")
    return digits[:5]


def _zip_verdict(claimed: str, profiles: Sequence[Profile]) -> str:
    said = _zip5(claimed)
    on_record = [re.sub(r"\D", "", a.zip_code)[:5] for p in profiles for a in p.addresses if a.zip_code]
    if not on_record:
        return NOT_ON_RECORD
    return MATCH if said in on_record else NO_MATCH


def _email_verdict(claimed: str, profiles: Sequence[Profile]) -> str:
    said = claimed.strip().casefold()
    on_record = [p.email.strip().casefold() for p in profiles if p.email]
    if not on_record:
        return NOT_ON_RECORD
    if said in on_record:
        return MATCH
    local = said.partition("@")[0]
    return PARTIAL if local and any(e.partition("@")[0] == local for e in on_record) else NO_MATCH


def _street(text: str) -> tuple[str, tuple[str, ...]]:
    words = [_STREET_WORDS.get(w, w) for w in _words(text)]
    number = words[0] if words and any(c.isdigit() for c in words[0]) else ""
    return number, tuple(words[1:] if number else words)


def _street_verdict(claimed: str, profiles: Sequence[Profile]) -> str:
    number, name = _street(claimed)
    best = NOT_ON_RECORD
    for line in (a.line1 for p in profiles for a in p.addresses if a.line1):
        on_number, on_name = _street(line)
        same_number, same_name = bool(number) and number == on_number, bool(name) and name == on_name
        verdict = MATCH if same_number and same_name else PARTIAL if same_number or same_name else NO_MATCH
        best = max(best, verdict, key=_RANK.__getitem__)
    return best


def _overall(verdicts: Iterable[str]) -> str:
    given = list(verdicts)
    if given and all(v == MATCH for v in given):
        return MATCH
    if all(v in (NO_MATCH, NOT_ON_RECORD) for v in given):
        return NO_MATCH
    return PARTIAL


def verify(
    profiles: Sequence[Profile],
    *,
    name: str | None = None,
    zip_code: str | None = None,
    email: str | None = None,
    street: str | None = None,
) -> Verification:
    """Each claimed field given (non-blank) against ``profiles`` (a lookup's records), and the overall verdict.

    Raises :class:`InvalidClaim` for a value that cannot be compared, and ValueError when no field is given.
    """
    claims = {"name": name, "zip": zip_code, "email": email, "street": street}
    judges = {"name": _name_verdict, "zip": _zip_verdict, "email": _email_verdict, "street": _street_verdict}
    fields = tuple(FieldVerdict(f, judges[f](claims[f] or "", profiles)) for f in FIELDS if (claims[f] or "").strip())
    if not fields:
        raise ValueError("nothing to verify: give at least one of name, ZIP, email, street")
    return Verification(fields, _overall(f.verdict for f in fields))
