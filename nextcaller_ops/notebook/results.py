"""What the magics return: objects that show themselves as HTML in Jupyter and as text in a terminal."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from ..corrections import CorrectionOutcome
from ..models import Profile
from ..render import FONT_CSS, html_card, no_record_text, text_card

__all__ = ["CallerResult", "CorrectionResult"]


class CallerResult:
    """What ``%nextcaller`` returns: the profiles for one number, shown as cards."""

    def __init__(
        self,
        phone: str,
        profiles: tuple[Profile, ...],
        *,
        extension: str | None = None,
        cached: bool = False,
        fmt: str = "card",
        raw: str | None = None,
    ):
        self.phone = phone
        self.profiles = profiles
        self.extension = extension
        self.cached = cached
        self.format = fmt
        self.raw = raw

    @property
    def found(self) -> bool:
        return bool(self.profiles)

    @property
    def document(self) -> dict[str, Any]:
        """The API's JSON document for this lookup."""
        return {"records": [p.to_api() for p in self.profiles]}

    def __len__(self) -> int:
        return len(self.profiles)

    def __iter__(self) -> Iterator[Profile]:
        return iter(self.profiles)

    def __getitem__(self, index: int) -> Profile:
        return self.profiles[index]

    def __repr__(self) -> str:
        if self.format == "xml" and self.raw is not None:
            return self.raw.rstrip()
        if self.format == "json":
            return json.dumps(self.document, indent=2, ensure_ascii=False)
        if not self.found:
            return no_record_text(self.phone)
        return "\n\n".join(text_card(p) for p in self.profiles)

    def _repr_html_(self) -> str | None:
        if self.format in ("json", "xml"):
            body = self.raw if self.format == "xml" and self.raw is not None else repr(self)
            return f"<pre>{html.escape(body)}</pre>"
        if not self.found:
            return f'<p style="{FONT_CSS}">{html.escape(no_record_text(self.phone))}</p>'
        return "".join(html_card(p) for p in self.profiles)


class CorrectionResult:
    """What ``%nextcaller_update`` returns: the fields sent, with their old values."""

    def __init__(self, outcome: CorrectionOutcome):
        self.outcome = outcome
        self.profile_id = outcome.profile_id
        self.sent = dict(outcome.sent)
        self.before = dict(outcome.before or {})

    def __repr__(self) -> str:
        if not self.sent:
            return f"Nothing to correct for {self.profile_id}: the record already has these values."
        lines = [f"Correction sent for {self.profile_id}:"]
        for name, value in self.sent.items():
            old = self.before.get(name)
            lines.append(f"  {name}: {old!r} → {value!r}" if old is not None else f"  {name}: {value!r}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        if not self.sent:
            return f'<p style="{FONT_CSS}">{e(repr(self))}</p>'
        rows = "".join(
            f"<tr><td>{e(k)}</td><td><s>{e(self.before.get(k, ''))}</s></td><td>{e(v)}</td></tr>"
            for k, v in self.sent.items()
        )
        return (
            f'<div style="{FONT_CSS}"><p>Correction sent for <code>{e(self.profile_id)}</code>:</p>'
            f'<table style="text-align:left"><tr><th>field</th><th>was</th><th>now</th></tr>{rows}</table></div>'
        )
