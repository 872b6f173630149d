"""v2.1's fraud level for a number: ``GET fraud/?phone=`` -> ``{"spoofed": ..., "fraud_risk": ...}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadResponseError

__all__ = ["FraudLevel", "SPOOFED_VALUES", "RISK_LEVELS"]

SPOOFED_VALUES = ("true", "false", "unknown")
RISK_LEVELS = ("low", "medium", "high")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip().lower()


@dataclass(frozen=True)
class FraudLevel:
    """Is the number spoofed, and how risky is a call from it (v2.1)."""

    phone: str
    spoofed: str  # "true" / "false" / "unknown"
    fraud_risk: str  # "low" / "medium" / "high" ("" when the API gave none)
    cached: bool = False
    source: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_api(cls, phone: str, doc: Any) -> FraudLevel:
        if not isinstance(doc, Mapping) or not ("spoofed" in doc or "fraud_risk" in doc):
            raise BadResponseError("the answer has no `spoofed` or `fraud_risk`")
        spoofed = _text(doc.get("spoofed")) or "unknown"
        return cls(
            phone=phone,
            spoofed=spoofed if spoofed in SPOOFED_VALUES else "unknown",
            fraud_risk=_text(doc.get("fraud_risk")),
            source=dict(doc),
        )

    def to_api(self) -> dict[str, Any]:
        """The API's document, as it was sent when it came from the API."""
        if self.source is not None:
            return dict(self.source)
        return {"spoofed": self.spoofed, "fraud_risk": self.fraud_risk}
