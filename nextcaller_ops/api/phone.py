"""Free text -> the API's 10-digit US phone number.

The API only accepts ten digits, no extension.  Everything that reaches the
network goes through :func:`parse` first, so a typo costs nothing.

>>> parse("(212) 555-8383 x12")
PhoneInput(number='2125558383', extension='12', raw='(212) 555-8383 x12')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..errors import InvalidPhoneError

__all__ = ["PhoneInput", "parse", "find_numbers"]

# Longest input we bother to parse: anything longer is not a phone number and
# parsing it would only waste time.
_MAX_INPUT = 64
_US_REGIONS = frozenset({"US"})


@dataclass(frozen=True)
class PhoneInput:
    """A normalised number: ``number`` is exactly ten ASCII digits."""

    number: str
    extension: str | None
    raw: str

    def __str__(self) -> str:
        return self.number

    @property
    def display(self) -> str:
        n = self.number
        text = f"({n[:3]}) {n[3:6]}-{n[6:]}"
        return f"{text} x{self.extension}" if self.extension else text


def _to_ascii_digits(text: str) -> str:
    # Fullwidth or Arabic-Indic digits are digits to a person; normalise them so
    # that only ASCII ever reaches a URL.
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.digit(ch)))
                continue
            except (TypeError, ValueError):
                pass
        out.append(ch)
    return "".join(out)


def parse(text: object) -> PhoneInput:
    """Normalise ``text`` or raise :class:`InvalidPhoneError` saying why."""
    if text is None:
        raise InvalidPhoneError("no phone number given", value="")
    raw = str(text)
    cleaned = _to_ascii_digits(unicodedata.normalize("NFKC", raw)).strip()
    if not cleaned:
        raise InvalidPhoneError("no phone number given", value=raw)
    if len(cleaned) > _MAX_INPUT:
        raise InvalidPhoneError("too long to be a phone number", value=raw)
    body = re.sub(r"(?i)(?:ext|x)\.?\s*\d+\s*$", "", cleaned)
    if re.search(r"[^\W\d_]", body):
        raise InvalidPhoneError("contains letters", value=raw)
    odd = sorted(set(re.sub(r"[\d\s().+\-]", "", body)))
    if odd:
        raise InvalidPhoneError(f"contains {''.join(odd)!r}, which is not part of a phone number", value=raw)
    digits = re.sub(r"\D", "", body)
    import phonenumbers  # here, not at the top: importing the client stays cheap (issue 25)

    try:
        parsed = phonenumbers.parse(cleaned, "US")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneError(_length_reason(digits), value=raw) from None
    region = phonenumbers.region_code_for_number(parsed)
    if parsed.country_code != 1 or (region and region not in _US_REGIONS):
        where = region or f"+{parsed.country_code}"
        raise InvalidPhoneError(f"not a US number ({where})", value=raw)
    national = str(parsed.national_number)
    if len(national) != 10:
        # phonenumbers drops a leading 0 or 1 from the area code: ten digits are not "too short".
        ten = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
        if len(ten) == 10:
            raise InvalidPhoneError("not a valid US number (an area code never starts with 0 or 1)", value=raw)
        raise InvalidPhoneError(_length_reason(digits), value=raw)
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneError("not a valid US number (no such area code or exchange)", value=raw)
    return PhoneInput(number=national, extension=parsed.extension or None, raw=raw)


def _length_reason(digits: str) -> str:
    n = len(digits)
    if n == 0:
        return "has no digits"
    if n < 10:
        return f"too short ({n} digits)"
    return f"too long ({n} digits)"


_CANDIDATE = re.compile(r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}")


def find_numbers(text: str) -> list[PhoneInput]:
    """Every valid US number mentioned in free text, in order, without repeats."""
    import phonenumbers

    seen: dict[str, PhoneInput] = {}
    for match in phonenumbers.PhoneNumberMatcher(text or "", "US"):
        try:
            found = parse(match.raw_string)
        except InvalidPhoneError:
            continue
        seen.setdefault(found.number, found)
    return list(seen.values())
