"""Numbers from a file for ``lookup --file``: one per line, or a CSV's ``phone`` column.

The file is read as ``--encoding`` (default ``utf-8-sig``: UTF-8, with or without a
byte-order mark).  A file that is not in that encoding is refused before any
request or output, naming its first bad line (:func:`scan`); stdin cannot be read
twice, so there a bad line stops the run where it is found.  Memory stays flat: a
line is held whole only up to :data:`MAX_LINE` characters.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import re
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from ...errors import UsageError

PHONE_COLUMNS = ("phone", "phone_number", "number")
DEFAULT_ENCODING = "utf-8-sig"
MAX_LINE = 1 << 20  # characters; a longer line is no phone number (and no sane CSV row)

# Bytes the encoding could not decode, as errors="surrogateescape" hands them over.
_UNDECODED = re.compile("[\udc80-\udcff]")


def check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(
            f"unknown encoding {encoding!r}", hint="e.g. --encoding cp1252 or --encoding latin-1"
        ) from None


def _not_in_encoding(source: str, line: int, encoding: str, byte: int | None) -> UsageError:
    label = "UTF-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
    what = f" (byte 0x{byte:02x})" if byte is not None else ""
    return UsageError(
        f"{source} line {line} is not {label} text{what}",
        hint="give the file's encoding, e.g. --encoding cp1252 (or save it as UTF-8)",
    )


def scan(path: str, encoding: str = DEFAULT_ENCODING) -> int | None:
    """How many lines ``path`` has (None for stdin), after checking every byte decodes.

    Reads in fixed-size chunks: a huge file or a file with no newline at all costs
    no memory.  Raises :class:`UsageError` naming the first line that does not decode.
    """
    if path == "-":
        return None
    lines, last = 0, ""
    try:
        with open(path, encoding=encoding, errors="surrogateescape", newline="") as fh:
            while chunk := fh.read(1 << 16):
                bad = _UNDECODED.search(chunk)
                if bad:
                    line = lines + chunk.count("\n", 0, bad.start()) + 1
                    raise _not_in_encoding(path, line, encoding, ord(bad.group()) - 0xDC00)
                lines += chunk.count("\n")
                last = chunk[-1]
    except UnicodeDecodeError:  # codecs whose errors surrogateescape cannot carry (UTF-16)
        raise _not_in_encoding(path, lines + 1, encoding, None) from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path given to --file") from None
    return lines + (1 if last and last != "\n" else 0)


def read_inputs(path: str, encoding: str = DEFAULT_ENCODING) -> Iterator[str]:
    """Numbers from ``path`` (``-`` for stdin), lazily.

    The file is opened and its first line read here, so a missing file or a CSV
    without a phone column is refused before any output or request.
    """
    source = "stdin" if path == "-" else path
    if path == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # already text (a test harness, an embedding program)
            stream: TextIO = sys.stdin
            closing: Any = contextlib.nullcontext(stream)
        else:
            stream = io.TextIOWrapper(buffer, encoding=encoding, errors="surrogateescape", newline="")
            closing = _detaching(stream)
    else:
        try:
            stream = open(path, encoding=encoding, errors="surrogateescape", newline="")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path given to --file") from None
        closing = stream
    lines = _lines(stream, source, encoding)
    try:
        first = next(lines, "")
    except UsageError:
        closing.__exit__(None, None, None)
        raise
    try:
        header = [h.strip().lower() for h in next(csv.reader([first]), [])] if first else []
    except csv.Error:  # a first line no CSV parser takes (a field over its limit) is no header
        header = []
    column: int | None = None
    if len(header) > 1 or (header and header[0] in PHONE_COLUMNS):
        column = next((i for i, h in enumerate(header) if h in PHONE_COLUMNS), None)
        if column is None:
            closing.__exit__(None, None, None)
            raise UsageError(
                f"{path} looks like a CSV but has no `phone` column",
                hint="name the column `phone`, or give one number per line",
            )
    return _iter_inputs(lines, closing, first, column, source)


@contextlib.contextmanager
def _detaching(stream: io.TextIOWrapper) -> Iterator[io.TextIOWrapper]:
    try:
        yield stream
    finally:
        with contextlib.suppress(ValueError):
            stream.detach()  # leave sys.stdin's buffer open for whoever comes next


def _lines(stream: TextIO, source: str, encoding: str) -> Iterator[str]:
    """``stream``'s lines, each checked to have decoded; one over MAX_LINE is cut (and drained)."""
    number = 0
    while True:
        try:
            line = stream.readline(MAX_LINE)
        except UnicodeDecodeError:
            raise _not_in_encoding(source, number + 1, encoding, None) from None
        if not line:
            return
        number += 1
        if len(line) == MAX_LINE and not line.endswith("\n"):
            while (rest := stream.readline(MAX_LINE)) and len(rest) == MAX_LINE and not rest.endswith("\n"):
                pass
        bad = _UNDECODED.search(line)
        if bad:
            raise _not_in_encoding(source, number, encoding, ord(bad.group()) - 0xDC00)
        yield line


def _iter_inputs(lines: Iterator[str], closing: Any, first: str, column: int | None, source: str) -> Iterator[str]:
    with closing:
        if column is not None:
            reader = csv.reader(lines)
            try:
                for row in reader:
                    if row and any(cell.strip() for cell in row):
                        yield row[column] if column < len(row) else ""
            except csv.Error as exc:
                raise UsageError(
                    f"{source} line {reader.line_num + 1}: {exc}", hint="check the CSV's quoting"
                ) from None
            return
        for line in itertools.chain([first], lines):
            text = line.strip()
            if text and not text.startswith("#"):
                yield text
