"""``%%nextcaller`` and ``%nextcaller_enrich``: a batch into a table, shown, stored, written out.

With ``-o VAR`` the table goes into ``VAR`` and only the summary line is
shown (``--display`` shows its first ``display_limit`` rows too); ``--to``
writes it to CSV or Parquet.  Both checks (the variable name, the file) happen
before any lookup.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from IPython.core.error import UsageError

from ..batch.enrichment import check_frame, enrich_frame
from ..batch.frames import check_export_path, columns_for, export, rows_for, to_frame
from ..batch.run import stream_batch
from . import v21
from ._context import Magics
from .progress import make_progress

__all__ = ["lookup_cell", "enrich_variable", "cell_numbers"]


def cell_numbers(cell: str) -> list[str]:
    """One number per line; ``#`` starts a comment; blank lines are skipped."""
    numbers = [text.split("#", 1)[0].strip() for text in cell.splitlines()]
    return [n for n in numbers if n]


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def lookup_cell(magics: Magics, args: argparse.Namespace, cell: str) -> Any:
    numbers = cell_numbers(cell)
    if not numbers:
        what = "addresses" if args.email else "numbers"
        raise UsageError(f"%%nextcaller: the cell has no {what} (one per line; # starts a comment)")
    if args.to:
        if _pandas() is None:
            raise UsageError(f"--to {args.to}: writing a file needs pandas (pip install 'nextcaller-ops[notebook]')")
        check_export_path(args.to)
    client = magics._client(args.profile)
    question = v21.batch_question(client, args)  # --email, --fraud (API v2.1): refused on v2 before any request
    columns = columns_for(args.rows, client.api_version, fraud=bool(args.fraud))
    rows: list[dict[str, Any]] = []
    with stream_batch(
        client,
        numbers,
        question=question,
        concurrency=args.concurrency or magics.concurrency,
        refresh=args.refresh,
        progress=make_progress(magics.shell, magics.progress),
    ) as run:
        for item in run:  # each row made as its line completes; the engine keeps only a window of lookups
            rows.extend(rows_for([item], args.rows, columns))
    table = _table(magics, rows, columns)
    if args.to:
        written = export(table if not isinstance(table, list) else to_frame(rows, columns), args.to)
        print(f"Wrote {len(rows)} row{'s' if len(rows) != 1 else ''} to {written}.")
    if args.output:
        magics._store(args.output, table)
        if args.display:
            show(table, magics.display_limit, args.output)
        return None
    return table


def _table(magics: Magics, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    if not magics.return_dataframe:
        return rows
    if _pandas() is None:
        print(
            "pandas is not installed: returning a list of dicts "
            "(pip install 'nextcaller-ops[notebook]' for DataFrames)",
            file=sys.stderr,
        )
        return rows
    return to_frame(rows, columns)


def show(table: Any, limit: int, name: str) -> None:
    """Display the first ``limit`` rows of ``table`` (all when 0), and say where the rest is."""
    from IPython.display import display

    total = len(table)
    cut = bool(limit) and total > limit
    if isinstance(table, list):
        display(table[:limit] if cut else table)
    else:
        display(table.head(limit) if cut else table)
    if cut:
        print(f"Showing {limit} of {total} rows; the whole table is in `{name}` (%config NextCaller.display_limit).")


def enrich_variable(magics: Magics, args: argparse.Namespace) -> None:
    if _pandas() is None:
        raise UsageError("%nextcaller_enrich needs pandas (pip install 'nextcaller-ops[notebook]')")
    namespace = magics.shell.user_ns if magics.shell is not None else {}
    if not args.frame.isidentifier():
        raise UsageError(f"%nextcaller_enrich {args.frame}: give the name of a DataFrame variable")
    if args.frame not in namespace:
        raise UsageError(f"%nextcaller_enrich: there is no variable named {args.frame!r}")
    df = namespace[args.frame]
    check_frame(df, args.column, args.fields, args.prefix)
    if args.to:
        check_export_path(args.to)
    client = magics._client(args.profile)
    out, _ = enrich_frame(
        df,
        args.column,
        client,
        fields=args.fields,
        prefix=args.prefix,
        concurrency=args.concurrency or magics.concurrency,
        refresh=args.refresh,
        inplace=not args.output,
        progress=make_progress(magics.shell, magics.progress),
    )
    if args.to:
        written = export(out, args.to)
        print(f"Wrote {len(out)} row{'s' if len(out) != 1 else ''} to {written}.")
    if args.output:
        magics._store(args.output, out)
        if args.display:
            show(out, magics.display_limit, args.output)
    else:
        show(out, magics.display_limit, args.frame)
