"""Enrich a DataFrame: the caller's profile beside each row's phone number.

>>> import nextcaller_ops
>>> calls = nextcaller_ops.enrich(calls, "phone")                  # doctest: +SKIP
>>> calls[["phone", "name", "carrier", "fraud_threat", "status"]]  # doctest: +SKIP

The frame keeps its own columns, index and row order; the profile columns are
added after them (``fields``, default all), then ``status`` and ``error``.  A
number that appears in several rows is fetched once.  The rules of every batch
apply (:mod:`.batch_run`): a refused key stops at the first row with one line,
an interrupt keeps the rows done; rows not looked up have missing values.

A column that is already there is replaced only when an earlier enrich added
it (re-running a cell); a column of the user's own with the same name is a
:class:`~nextcaller_ops.errors.UsageError` naming it (use ``prefix``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..api.models import FLAT_COLUMNS
from ..api.render import batch_row
from ..errors import UsageError
from .frames import typed_columns
from .run import BatchClient, BatchSummary, Progress, stream_batch

__all__ = ["ENRICH_FIELDS", "DEFAULT_FIELDS", "enrich", "enrich_frame", "check_frame", "parse_fields"]

# What a row can be enriched with; ``status`` and ``error`` always come along.
ENRICH_FIELDS = ("records", "max_fraud_threat", "duplicate", *FLAT_COLUMNS)
DEFAULT_FIELDS = ("records", "max_fraud_threat", *FLAT_COLUMNS)
_ALWAYS = ("status", "error")
_ADDED_ATTR = "nextcaller_columns"  # df.attrs key: the columns an enrich added


def parse_fields(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"name,carrier,fraud_threat"`` -> the field names, each checked."""
    if text is None:
        return DEFAULT_FIELDS
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in ENRICH_FIELDS]
    if unknown or not names:
        raise UsageError(
            f"--fields {','.join(names) or '(empty)'}: "
            + (f"unknown field {', '.join(map(repr, unknown))}" if unknown else "no field named"),
            hint="choose from " + ", ".join(ENRICH_FIELDS),
        )
    return tuple(dict.fromkeys(n for n in names if n not in _ALWAYS))


def _as_text(value: Any) -> str:
    """A cell as the number's text: ``2125558383.0`` (a float column) is ``2125558383``; missing is ``""``."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN, pd.NA raises TypeError on truth-testing
            return ""
    except TypeError:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_frame(
    df: Any, column: str, fields: str | Sequence[str] | None, prefix: str
) -> tuple[tuple[str, ...], list[str], set[str]]:
    """Refuse what cannot be enriched, before any request: the fields, the added columns, those ours already."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"expected a pandas DataFrame, not {type(df).__name__}")
    if column not in df.columns:
        shown = ", ".join(map(str, list(df.columns)[:12])) or "none"
        raise UsageError(f"the DataFrame has no column {column!r}", hint=f"its columns: {shown}")
    chosen = parse_fields(fields)
    added = [f"{prefix}{name}" for name in (*chosen, *_ALWAYS)]
    ours = _ours(df)
    clash = [name for name in added if name in df.columns and name not in ours]
    if clash:
        raise UsageError(
            f"the DataFrame already has column {', '.join(map(repr, clash))} of its own",
            hint="add a prefix for the new columns (--prefix nc_ / prefix='nc_')",
        )
    return chosen, added, ours


def _fingerprint(column: Any) -> str:
    import pandas as pd

    return str(int(pd.util.hash_pandas_object(column, index=False).sum()))


def _ours(df: Any) -> set[str]:
    """The columns an earlier enrich added and nobody changed since (a renamed or edited column is the user's).

    ``df.attrs`` follows a frame into its copies and slices, so a name alone
    would not do: each added column's content is remembered too.
    """
    marks = df.attrs.get(_ADDED_ATTR)
    if not isinstance(marks, dict):
        return set()
    return {name for name, mark in marks.items() if name in df.columns and _fingerprint(df[name]) == mark}


def enrich_frame(
    df: Any,
    column: str,
    client: BatchClient,
    *,
    fields: str | Sequence[str] | None = None,
    prefix: str = "",
    concurrency: int | None = None,
    refresh: bool = False,
    inplace: bool = False,
    progress: Progress | None = None,
    max_requests: int | None = None,
    resume: str | None = None,
) -> tuple[Any, BatchSummary]:
    """The enriched frame (``df`` itself when ``inplace``) and the batch's summary.

    ``resume``: a .csv or .parquet file the enriched frame is written to (with
    a ledger beside it); a later call with the same numbers and ``resume``
    keeps the rows an interrupted run settled there and asks only the rest.
    """
    import pandas as pd

    from .frames import check_export_path, export
    from .resume import SETTLED, TableResume

    chosen, added, ours = check_frame(df, column, fields, prefix)
    inputs = [_as_text(v) for v in df[column].tolist()]
    values: dict[str, list[Any]] = {name: [None] * len(inputs) for name in (*chosen, *_ALWAYS)}
    kept = None
    if resume is not None:
        check_export_path(resume)
        kept = TableResume(resume, inputs, {"fields": list(values), "prefix": prefix})
        for i, row in enumerate(kept.rows()):
            for name in values:
                values[name][i] = row.get(f"{prefix}{name}")
    skip = kept.lines if kept else 0
    settled, settling = skip, True
    with stream_batch(
        client, inputs[skip:], concurrency=concurrency, refresh=refresh, progress=progress, max_requests=max_requests
    ) as run:
        run.summary.resumed = skip
        for item in run:  # each row's values set as it completes; rows not looked up stay missing
            row = batch_row(item)
            for name in values:
                values[name][skip + item.index] = row[name]
            settling = settling and item.status in SETTLED
            settled += settling
    summary = run.summary
    target = df if inplace else df.copy()
    block = typed_columns(pd.DataFrame(values, index=df.index), list(values))
    for name in values:
        target[f"{prefix}{name}"] = block[name].array  # by position: a repeated index label stays in its row
    earlier = df.attrs.get(_ADDED_ATTR)
    marks = {name: mark for name, mark in earlier.items() if name in ours} if isinstance(earlier, dict) else {}
    marks.update({name: _fingerprint(target[name]) for name in added})
    target.attrs[_ADDED_ATTR] = marks
    if kept is not None and resume is not None:
        export(target, resume)
        kept.save(settled, settled)
    return target, summary


def enrich(
    df: Any,
    column: str = "phone",
    *,
    fields: str | Sequence[str] | None = None,
    prefix: str = "",
    client: BatchClient | None = None,
    profile: str | None = None,
    concurrency: int | None = None,
    refresh: bool = False,
    inplace: bool = False,
    progress: Progress | bool | None = None,
    max_requests: int | None = None,
    resume: str | None = None,
) -> Any:
    """``df`` with the caller's profile beside each row's ``column`` number (a new frame unless ``inplace``).

    ``client`` defaults to one for ``profile`` (credentials from the env or the
    keyring, closed afterwards).  ``progress``: None shows the surface's bar and
    the summary line (a notebook's, when the extension is loaded; else a
    terminal bar on stderr), False shows nothing.  ``max_requests``: send at
    most that many API requests (rows past it get status ``skipped``, their
    fields missing).  ``resume``: a .csv/.parquet file the enriched frame is
    written to; called again after an interrupt, the rows it holds are kept and
    only the rest are asked.
    """
    from .progress import NoProgress, default_progress

    shown: Progress
    if progress is False:
        shown = NoProgress()
    elif progress is None or progress is True:
        shown = default_progress()
    else:
        shown = progress
    options: dict[str, Any] = {
        "fields": fields,
        "prefix": prefix,
        "concurrency": concurrency,
        "refresh": refresh,
        "inplace": inplace,
        "progress": shown,
        "max_requests": max_requests,
        "resume": resume,
    }
    check_frame(df, column, fields, prefix)  # bad input costs no credentials look-up
    if client is not None:
        return enrich_frame(df, column, client, **options)[0]
    from ..audit import local_auditor
    from ..client.client import NextCallerClient
    from ..config import load_settings

    with NextCallerClient(settings=load_settings(profile), audit=local_auditor("python")) as own:
        return enrich_frame(df, column, own, **options)[0]
