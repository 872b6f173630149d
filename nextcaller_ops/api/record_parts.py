"""The parts of a record: its phone entries, addresses and (v2.1) social links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PhoneNumber", "Address", "SocialLink", "as_text"]


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Any) -> PhoneNumber:
        if not isinstance(data, Mapping):
            return cls(number=as_text(data))
        rest = {k: v for k, v in data.items() if k != "number"}
        return cls(number=as_text(data.get("number")), extra=rest)

    def to_api(self) -> dict[str, Any]:
        return {"number": self.number, **self.extra}

    @property
    def carrier(self) -> str:
        """v2.1: the carrier of this number (v2 names one carrier on the record)."""
        return as_text(self.extra.get("carrier"))

    @property
    def line_type(self) -> str:
        """v2.1: ``LAN``, ``Mobile``, ``VoIP``... as the API writes it."""
        return as_text(self.extra.get("line_type"))


@dataclass(frozen=True)
class SocialLink:
    """v2.1: a social profile found for the person."""

    type: str
    url: str
    followers: int | None = None

    @classmethod
    def from_api(cls, data: Any) -> SocialLink:
        if not isinstance(data, Mapping):
            return cls(type="", url=as_text(data))
        try:
            followers = int(data["followers"]) if data.get("followers") not in (None, "") else None
        except (TypeError, ValueError):
            followers = None
        return cls(type=as_text(data.get("type")), url=as_text(data.get("url")), followers=followers)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "url": self.url}
        if self.followers is not None:
            out["followers"] = self.followers
        return out


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    extended_zip: str = ""
    country: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    _NAMES = ("line1", "line2", "city", "state", "zip_code", "extended_zip", "country")

    @classmethod
    def from_api(cls, data: Any) -> Address:
        if not isinstance(data, Mapping):
            return cls(line1=as_text(data))
        known = {k: as_text(data.get(k)) for k in cls._NAMES}
        rest = {k: v for k, v in data.items() if k not in cls._NAMES}
        return cls(**known, extra=rest)

    def to_api(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in self._NAMES}, **self.extra}

    @property
    def one_line(self) -> str:
        zip_text = self.zip_code + (f"-{self.extended_zip}" if self.extended_zip else "")
        city = ", ".join(p for p in (self.city, " ".join(p for p in (self.state, zip_text) if p)) if p)
        return ", ".join(p for p in (self.line1, self.line2, city) if p)
