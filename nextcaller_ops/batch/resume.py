"""Resuming a batch that was cut short: a small ledger beside its output, keyed by the input's hash.

A batch's rows come in input order, so what an interrupted run (Ctrl-C, a
crash, a closed laptop lid, ``kill -9``) finished is a prefix of its input.
The ledger (``OUT.nextcaller-resume``, beside the output ``OUT``) says which
input it belongs to (the SHA-256 of the input's bytes, and how the rows were
written), and after each row how many input lines are settled and how long
the output was then.  A resumed run cuts the output back to the last
settled length (a row half written when the process died goes), skips that
many input lines without asking the API, and goes on appending.

Only lines that are settled count: a row that was ``skipped`` over the
budget or failed at the API is asked again by the next run, and so is every
row after it.

The ledger is append-only (one short line per row, flushed), so a run killed
at any moment leaves a readable ledger: a torn last line is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import UsageError
from .frames import BOOL_COLUMNS, INT_COLUMNS, LEDGER_SUFFIX, ledger_path

__all__ = ["SUFFIX", "Ledger", "Resumed", "TableResume", "file_hash", "lines_hash", "ledger_path", "SETTLED"]

SUFFIX = LEDGER_SUFFIX
SETTLED = frozenset({"found", "not_found", "invalid"})  # a row a later run need not ask again
_VERSION = 1


def file_hash(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes (read in chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def lines_hash(lines: Iterable[Any]) -> str:
    """The SHA-256 of a batch's inputs given as values (a cell's numbers, a frame's column)."""
    digest = hashlib.sha256()
    for value in lines:
        digest.update(repr("" if value is None else str(value)).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class Resumed:
    """What an earlier run of the same input settled: ``lines`` input lines, the output's first ``size`` bytes."""

    lines: int
    size: int


class Ledger:
    """The ledger of one output: :meth:`earlier` reads it, :meth:`begin` starts a new one, :meth:`settle` appends."""

    def __init__(self, output: str | os.PathLike[str], input_hash: str, how: dict[str, Any], *, unit: str = "bytes"):
        self.unit = unit  # what ``size`` counts: the output's bytes (a streamed file) or a table's rows
        self.path = ledger_path(output)
        self.output = Path(output)
        self.input_hash = input_hash
        self.how = how  # how the rows are written (format, columns…): a resumed run must write them alike
        self._fh: IO[str] | None = None
        self._lines = 0

    def earlier(self) -> Resumed | None:
        """What an earlier run of this same input settled; None when there was none (or nothing to keep).

        Raises :class:`UsageError` when the ledger belongs to another input, or
        the rows were written another way: the output would mix two runs.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise UsageError(
                f"cannot read {self.path}: {exc.strerror}", hint="check the file, or leave out --resume"
            ) from None
        lines = text.split("\n")
        try:
            head = json.loads(lines[0])
        except ValueError:
            head = {}
        if head.get("input_sha256") != self.input_hash:
            raise UsageError(
                f"{self.output} was written from another input (its ledger {self.path.name} does not match this one)",
                hint="give the output of this input's earlier run, or leave out --resume to start over",
            )
        if head.get("how") != self.how:
            raise UsageError(
                f"{self.output} was written another way ({_diff(head.get('how') or {}, self.how)})",
                hint="resume with the earlier run's options, or leave out --resume to start over",
            )
        settled = Resumed(0, int(head.get("size", 0)))
        for line in lines[1:-1]:  # the last piece has no newline: torn, or empty
            parts = line.split()
            if len(parts) == 2 and all(p.isdigit() for p in parts):
                settled = Resumed(int(parts[0]), int(parts[1]))
        try:
            size = self.output.stat().st_size
        except FileNotFoundError:
            return None
        if self.unit == "bytes" and size < settled.size:  # the output was cut or replaced since: trust none of it
            return None
        return settled

    def begin(self, resumed: Resumed | None, size: int) -> None:
        """Start the ledger for this run: the earlier run's lines kept, the output now ``size`` bytes."""
        self._lines = resumed.lines if resumed else 0
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        head = {"version": _VERSION, "input_sha256": self.input_hash, "how": self.how, "size": size}
        self._fh.write(json.dumps(head, sort_keys=True) + "\n")
        if resumed:
            self._fh.write(f"{resumed.lines} {size}\n")
        self._fh.flush()

    def settle(self, lines: int, size: int) -> None:
        """``lines`` more input lines are settled; the output is ``size`` bytes (flushed before this is called)."""
        if self._fh is None:
            return
        self._lines += lines
        self._fh.write(f"{self._lines} {size}\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _diff(before: dict[str, Any], now: dict[str, Any]) -> str:
    changed = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    return ", ".join(f"{k} was {before.get(k)!r}, now {now.get(k)!r}" for k in changed) or "unknown"


class TableResume:
    """Resuming a batch whose table is written whole at the end (``%%nextcaller --to FILE``, ``enrich(resume=FILE)``).

    The ledger's positions count the table's rows.  :attr:`lines` input lines
    were settled by the earlier run; :meth:`rows` gives their rows back from
    FILE (CSV or Parquet), typed as a batch makes them; :meth:`save`, after the
    table is written, records what this run settled.
    """

    def __init__(self, path: str | os.PathLike[str], inputs: Iterable[Any], how: dict[str, Any]):
        self.path = Path(os.path.expanduser(path))
        self.ledger = Ledger(self.path, lines_hash(inputs), how, unit="rows")
        self.earlier = self.ledger.earlier()

    @property
    def lines(self) -> int:
        return self.earlier.lines if self.earlier else 0

    def rows(self) -> list[dict[str, Any]]:
        """The earlier run's settled rows, read back from the file (blank cells as None, yes/no and counts typed)."""
        if not self.earlier or not self.earlier.size:
            return []
        import pandas as pd

        if self.path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(self.path)
        else:
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        if len(frame) < self.earlier.size:
            raise UsageError(
                f"{self.path} has fewer rows than its earlier run wrote",
                hint="leave out --resume to start over",
            )
        return [
            {name: _restored(name, value) for name, value in row.items()}
            for row in frame.head(self.earlier.size).to_dict("records")
        ]

    def save(self, lines: int, rows: int) -> None:
        """The table is written: ``lines`` input lines (its first ``rows`` rows) are settled."""
        self.ledger.begin(Resumed(lines, rows), rows)
        self.ledger.close()


_YES = {"true": True, "false": False}


def _restored(name: str, value: Any) -> Any:
    try:
        import pandas as pd

        if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        if value == "":
            return None
        if name in BOOL_COLUMNS:
            return _YES.get(value.lower(), value)
        if name in INT_COLUMNS:
            try:
                return int(float(value))
            except ValueError:
                return value
        return value
    if hasattr(value, "item"):  # numpy scalars from Parquet
        return value.item()
    return value
