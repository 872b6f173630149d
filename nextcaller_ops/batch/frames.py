"""Batch rows as pandas DataFrames, and written to CSV or Parquet.

Blank fields are missing values (``pd.NA``), not ``""``: text columns are
pandas' ``string`` dtype, yes/no columns ``boolean``, counts ``Int64``, so a
column has one type and ``isna()`` finds what the API left out.

pandas is imported when a frame is made; pyarrow only for ``.parquet``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..api.render import BATCH_COLUMNS, RECORD_COLUMNS, batch_columns, batch_row, record_rows
from ..client.fanout import BatchItem
from ..errors import UsageError, require

__all__ = ["ROW_MODES", "rows_for", "columns_for", "to_frame", "typed_columns", "check_export_path", "export"]

ROW_MODES = ("line", "record")
BOOL_COLUMNS = frozenset({"duplicate", "member", "billing_info_on_file"})
INT_COLUMNS = frozenset({"records", "record"})
EXPORT_SUFFIXES = (".csv", ".parquet")


def rows_for(
    items: Iterable[BatchItem], rows: str = "line", columns: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """One dict per line (``rows="line"``) or per record (``rows="record"``), with ``columns`` (default: v2's)."""
    columns = columns or columns_for(rows)
    if rows == "record":
        return [row for item in items for row in record_rows(item, columns)]
    return [batch_row(item, columns=columns) for item in items]


def columns_for(rows: str = "line", api_version: str = "v2", *, fraud: bool = False) -> tuple[str, ...]:
    """The table's columns: v2's, or v2.1's (line type, spoof, age, social links), with the fraud level's."""
    if api_version == "v2" and not fraud:
        return RECORD_COLUMNS if rows == "record" else BATCH_COLUMNS
    return batch_columns(api_version, fraud=fraud, per_record=rows == "record")


def typed_columns(frame: Any, columns: Iterable[str]) -> Any:
    """``frame`` with ``columns`` converted: blanks to ``pd.NA``, one dtype per column."""
    import pandas as pd

    for name in columns:
        values = [None if _blank(v) else v for v in frame[name].tolist()]
        if name in BOOL_COLUMNS:
            frame[name] = pd.array(values, dtype="boolean")
        elif name in INT_COLUMNS:
            frame[name] = pd.array(values, dtype="Int64")
        else:
            frame[name] = pd.array([None if v is None else str(v) for v in values], dtype="string")
    return frame


def _blank(value: Any) -> bool:
    import pandas as pd

    if value is None or (isinstance(value, str) and value == ""):
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def to_frame(dict_rows: Sequence[dict[str, Any]], columns: Sequence[str], index: Any = None) -> Any:
    import pandas as pd

    frame = pd.DataFrame(list(dict_rows), columns=list(columns), index=index)
    return typed_columns(frame, columns)


def check_export_path(path: str) -> Path:
    """Refuse a file the table cannot be written to, before any lookup is made."""
    target = Path(os.path.expanduser(path))
    suffix = target.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(
            f"--to {path}: unknown file type {suffix or '(none)'!r}", hint="end the name in .csv or .parquet"
        )
    if suffix == ".parquet":
        require("pyarrow", "parquet", f"--to {path}: writing Parquet with pyarrow", otherwise="write a .csv")
    if not target.parent.is_dir():
        raise UsageError(f"--to {path}: the folder {str(target.parent)!r} does not exist", hint="create it first")
    return target


# A resumable run's ledger sits beside the table it writes (batch/resume.py keeps it); named here because
# writing a table anew must drop a ledger that no longer describes it.
LEDGER_SUFFIX = ".nextcaller-resume"


def ledger_path(output: str | os.PathLike[str]) -> Path:
    out = Path(output)
    return out.with_name(out.name + LEDGER_SUFFIX)


def export(frame: Any, path: str) -> Path:
    """Write ``frame`` (its index too, when it is not the default one) to CSV or Parquet, mode 0600: it holds PII."""
    target = check_export_path(path)
    # A table written anew: a ledger an earlier resumable run left beside it no longer describes it (a
    # resumable run writes its own after this)
    with contextlib.suppress(FileNotFoundError):
        ledger_path(target).unlink()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(target, 0o600)  # a file that already existed keeps no wider mode
    keep_index = not _default_index(frame)
    if target.suffix.lower() == ".parquet":
        frame.to_parquet(target, index=keep_index)
    else:
        frame.to_csv(target, index=keep_index)
    return target


def _default_index(frame: Any) -> bool:
    import pandas as pd

    index = frame.index
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
