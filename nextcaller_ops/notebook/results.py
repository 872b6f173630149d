"""What the magics return: objects that show themselves as HTML in Jupyter and as text in a terminal."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from ..api.models import Profile
from ..api.render import FONT_CSS, html_card, no_record_text, text_card
from ..corrections import CorrectionOutcome

__all__ = ["CallerResult", "CallerResults", "CorrectionResult"]


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

    def _repr_json_(self) -> dict[str, Any] | None:
        """``--format json`` shows as JSON (``application/json``): a tree in JupyterLab, monospaced elsewhere."""
        return self.document if self.format == "json" else None

    def _repr_html_(self) -> str | None:
        if self.format in ("json", "xml"):
            return None  # the text form (monospaced in every frontend) is the document itself
        if not self.found:
            return f'<p style="{FONT_CSS}">{html.escape(no_record_text(self.phone))}</p>'
        return "".join(html_card(p) for p in self.profiles)


class CallerResults(list[CallerResult]):
    """``%nextcaller A B``: one :class:`CallerResult` per number, shown one after the other."""

    def __repr__(self) -> str:
        return "\n\n".join(repr(r) for r in self)

    def _repr_html_(self) -> str:
        return "".join(r._repr_html_() or html.escape(repr(r)) for r in self)


class CorrectionResult:
    """What ``%nextcaller_update`` returns: the fields sent (or, with ``--dry-run``, that would be), old → new.

    The old values are known when the record was in the lookup cache (or the
    API version can read a profile by id); otherwise the result says the
    fields were sent as given.
    """

    def __init__(self, outcome: CorrectionOutcome, *, dry_run: bool = False):
        self.outcome = outcome
        self.plan = outcome.plan
        self.dry_run = dry_run
        self.profile_id = outcome.profile_id
        self.sent = {} if dry_run else dict(outcome.sent)
        self.to_send = dict(self.plan.to_send)
        self.before = dict(outcome.before or {})
        self.record_known = self.plan.record_known

    def _changes(self) -> dict[str, str]:
        return self.to_send if self.dry_run else self.sent

    def _head(self) -> str:
        if self.dry_run:
            return f"Dry run — nothing sent. The correction for {self.profile_id} would send:"
        return f"Correction sent for {self.profile_id}:"

    def _note(self) -> str:
        if self.record_known:
            kept = ", ".join(self.plan.unchanged)
            return f"Unchanged (the record already has these values): {kept}." if kept else ""
        verb = "would be sent" if self.dry_run else "were sent"
        return (
            f"The record's current values are not known here, so the fields {verb} as given "
            "(API v2 cannot read a profile by id: look its number up first to see old → new)."
        )

    def __repr__(self) -> str:
        changes = self._changes()
        if not changes:
            return f"Nothing to correct for {self.profile_id}: the record already has these values."
        lines = [self._head()]
        for name, value in changes.items():
            old = self.before.get(name) if self.record_known else None
            lines.append(f"  {name}: {old!r} → {value!r}" if old is not None else f"  {name}: {value!r}")
        if self._note():
            lines.append(self._note())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        changes = self._changes()
        if not changes:
            return f'<p style="{FONT_CSS}">{e(repr(self))}</p>'
        if self.record_known:
            head = "<tr><th>field</th><th>was</th><th>now</th></tr>"
            rows = "".join(
                f"<tr><td>{e(k)}</td><td><s>{e(self.before.get(k, ''))}</s></td><td>{e(v)}</td></tr>"
                for k, v in changes.items()
            )
        else:
            head = "<tr><th>field</th><th>value sent</th></tr>"
            rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in changes.items())
        note = f"<p>{e(self._note())}</p>" if self._note() else ""
        return (
            f'<div style="{FONT_CSS}"><p>{e(self._head())}</p>'
            f'<table style="text-align:left">{head}{rows}</table>{note}</div>'
        )
