"""Numbers from a file for ``lookup --file``: one per line, or a CSV's ``phone`` column."""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from ..errors import UsageError

PHONE_COLUMNS = ("phone", "phone_number", "number")


def read_inputs(path: str) -> Iterator[str]:
    """Numbers from ``path`` (``-`` for stdin), lazily.

    The file is opened and its first line read here, so a missing file or a CSV
    without a phone column is refused before any output or request.
    """
    if path == "-":
        stream: TextIO = sys.stdin
        closing: Any = contextlib.nullcontext(stream)
    else:
        try:
            stream = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path given to --file") from None
        closing = stream
    first = stream.readline()
    header = [h.strip().lower() for h in next(csv.reader([first]), [])] if first else []
    column: int | None = None
    if len(header) > 1 or (header and header[0] in PHONE_COLUMNS):
        column = next((i for i, h in enumerate(header) if h in PHONE_COLUMNS), None)
        if column is None:
            if path != "-":
                stream.close()
            raise UsageError(
                f"{path} looks like a CSV but has no `phone` column",
                hint="name the column `phone`, or give one number per line",
            )
    return _iter_inputs(stream, closing, first, column)


def _iter_inputs(stream: TextIO, closing: Any, first: str, column: int | None) -> Iterator[str]:
    with closing:
        if column is not None:
            for row in csv.reader(stream):
                if row and any(cell.strip() for cell in row):
                    yield row[column] if column < len(row) else ""
            return
        for line in itertools.chain([first], stream):
            text = line.strip()
            if text and not text.startswith("#"):
                yield text


def count_lines(path: str) -> int | None:
    if path == "-" or not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)
