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

from ..batch.enrichment import _as_text as _text
from ..batch.enrichment import check_frame, enrich_frame
from ..batch.frames import check_export_path, columns_for, export, rows_for, to_frame
from ..batch.resume import SETTLED, TableResume
from ..batch.run import dry_run, stream_batch
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
    _check_budget(args)
    if args.resume and not args.to:
        raise UsageError("--resume goes with --to FILE (the rows kept are read back from FILE)")
    if args.to:
        if _pandas() is None:
            raise UsageError(f"--to {args.to}: writing a file needs pandas (pip install 'nextcaller-ops[notebook]')")
        check_export_path(args.to)
    client = magics._client(args.profile)
    question = v21.batch_question(client, args)  # --email, --fraud (API v2.1): refused on v2 before any request
    if args.dry_run:
        # the cache's keys: the number; "email:" + the address; a fraud check's "fraud:" + the number
        prefix = "email:" if args.email else ("fraud:" if args.fraud else "")
        print(dry_run_text(client, numbers, question, args.refresh, prefix=prefix))
        return None
    columns = columns_for(args.rows, client.api_version, fraud=bool(args.fraud))
    resume = TableResume(args.to, numbers, {"rows": args.rows, "columns": list(columns)}) if args.resume else None
    rows: list[dict[str, Any]] = resume.rows() if resume else []
    skip = resume.lines if resume else 0
    settled_lines, settled_rows, settling = skip, len(rows), True
    with stream_batch(
        client,
        numbers[skip:],
        question=question,
        concurrency=args.concurrency or magics.concurrency,
        refresh=args.refresh,
        progress=make_progress(magics.shell, magics.progress),
        max_requests=args.max_requests,
    ) as run:
        run.summary.resumed = skip
        for item in run:  # each row made as its line completes; the engine keeps only a window of lookups
            rows.extend(rows_for([item], args.rows, columns))
            settling = settling and item.status in SETTLED
            if settling:
                settled_lines, settled_rows = settled_lines + 1, len(rows)
    table = _table(magics, rows, columns)
    if args.to:
        written = export(table if not isinstance(table, list) else to_frame(rows, columns), args.to)
        if resume is not None:
            resume.save(settled_lines, settled_rows)
        print(f"Wrote {len(rows)} row{'s' if len(rows) != 1 else ''} to {written}.")
    if args.output:
        magics._store(args.output, table)
        if args.display:
            show(table, magics.display_limit, args.output)
        return None
    return table


def _check_budget(args: argparse.Namespace) -> None:
    if args.max_requests is not None and args.max_requests < 0:
        raise UsageError(f"--max-requests {args.max_requests}: give 0 or more")


def dry_run_text(client: Any, inputs: Any, question: Any = None, refresh: bool = False, *, prefix: str = "") -> str:
    """The dry run's line: rows, distinct questions, those the client's cache holds, the requests a run would make."""
    holds = lambda key: client.cache.get(prefix + key) is not None  # noqa: E731 - a one-line key test
    return dry_run(inputs, holds, question=question, refresh=refresh).text()


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
    _check_budget(args)
    if args.resume and not args.to:
        raise UsageError("--resume goes with --to FILE (the rows kept are read back from FILE)")
    if args.to:
        check_export_path(args.to)
    client = magics._client(args.profile)
    if args.dry_run:
        print(dry_run_text(client, [_text(v) for v in df[args.column].tolist()], refresh=args.refresh))
        return
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
        max_requests=args.max_requests,
        resume=args.to if args.resume else None,
    )
    if args.to and not args.resume:  # with --resume, enrich_frame wrote it (and its ledger)
        written = export(out, args.to)
        print(f"Wrote {len(out)} row{'s' if len(out) != 1 else ''} to {written}.")
    elif args.to:
        written = check_export_path(args.to)
        print(f"Wrote {len(out)} row{'s' if len(out) != 1 else ''} to {written}.")
    if args.output:
        magics._store(args.output, out)
        if args.display:
            show(out, magics.display_limit, args.output)
    else:
        show(out, magics.display_limit, args.frame)
