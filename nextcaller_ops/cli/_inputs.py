"""Numbers from a file for ``lookup --file``: one per line, or a CSV's ``phone`` (or ``--column``) column.

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

from ..errors import UsageError

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


class InputFile:
    """The numbers of a ``--file``, lazily, and the caller's other columns beside each.

    Iterating yields the number of each row (what the batch asks).  For a CSV,
    :attr:`columns` is its header and :meth:`row` gives a yielded row's cells by
    its 0-based index (the batch item's ``index``), once: the cells are held only
    until the output row is written, so memory stays bounded.
    """

    def __init__(self, numbers: Iterator[tuple[str, list[str]]], columns: list[str], *, header: bool):
        self._numbers = numbers
        self.columns = columns  # the CSV's header as written ([] for one number per line)
        self.has_header = header  # the first line was a header (not a number, not a row)
        self._cells: dict[int, list[str]] = {}
        self._skip = 0

    def skip(self, rows: int) -> None:
        """Leave out the first ``rows`` rows (an earlier run did them); indexes then count from the next one."""
        self._skip = rows

    def __iter__(self) -> Iterator[str]:
        for index, (number, cells) in enumerate(itertools.islice(self._numbers, self._skip, None)):
            if self.columns:
                self._cells[index] = cells
            yield number

    def row(self, index: int) -> dict[str, str]:
        """The caller's cells of row ``index`` by column name (once: they are then let go)."""
        cells = self._cells.pop(index, [])
        return {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(self.columns)}


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: comma, semicolon or tab (``csv.Sniffer``; a comma when it cannot tell)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in ",;\t"}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


_SNIFF_LINES = 20  # lines read ahead to tell the delimiter (a header alone can fool the sniffer)


def read_inputs(path: str, encoding: str = DEFAULT_ENCODING, column: str | None = None) -> InputFile:
    """The numbers from ``path`` (``-`` for stdin), lazily, with the caller's other columns.

    A CSV (comma-, semicolon- or tab-separated, told by :func:`sniff_delimiter`)
    is read from its ``column`` (default: the first named ``phone``,
    ``phone_number`` or ``number``, in any case); anything else is one number
    per line.  The file is opened and its first lines read here, so a missing
    file or a CSV without that column is refused before any output or request.
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
        ahead = list(itertools.islice(lines, _SNIFF_LINES))
    except UsageError:
        closing.__exit__(None, None, None)
        raise
    first = ahead[0] if ahead else ""
    delimiter = sniff_delimiter("".join(ahead)) if first else ","
    try:
        written = next(csv.reader([first], delimiter=delimiter), []) if first else []
    except csv.Error:  # a first line no CSV parser takes (a field over its limit) is no header
        written = []
    header = [h.strip().lower() for h in written]
    wanted = (column.strip().lower(),) if column else PHONE_COLUMNS
    index: int | None = None
    if len(header) > 1 or (header and header[0] in wanted):
        index = next((i for w in wanted for i, h in enumerate(header) if h == w), None)
        if index is None:
            closing.__exit__(None, None, None)
            seen = ", ".join(repr(h.strip()) for h in written)
            if column:
                raise UsageError(
                    f"{path} has no column {column!r} (its columns: {seen})", hint="give one of them to --column"
                )
            raise UsageError(
                f"{path} looks like a CSV but has no `phone` column (its columns: {seen})",
                hint="name the number's column with --column NAME, or give one number per line",
            )
    elif column:
        closing.__exit__(None, None, None)
        raise UsageError(
            f"--column {column}: {path} has no header line naming its columns",
            hint="add a header line, or leave out --column for one number per line",
        )
    rest = itertools.chain(ahead[1:], lines)
    if index is None:
        return InputFile(_iter_lines(itertools.chain([first], rest), closing), [], header=False)
    return InputFile(_iter_rows(rest, closing, index, delimiter, source), [h.strip() for h in written], header=True)


class _detaching:  # noqa: N801 - used as a context manager, like contextlib's
    """Closes a wrapper over stdin's buffer by detaching it: stdin stays open for whoever comes next.

    Its exit may be called without an enter (a refusal while the first lines are read).
    """

    def __init__(self, stream: io.TextIOWrapper):
        self._stream = stream

    def __enter__(self) -> io.TextIOWrapper:
        return self._stream

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(ValueError):
            self._stream.detach()


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


def _iter_rows(
    lines: Iterator[str], closing: Any, column: int, delimiter: str, source: str
) -> Iterator[tuple[str, list[str]]]:
    with closing:
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield (row[column] if column < len(row) else ""), row
        except csv.Error as exc:
            raise UsageError(f"{source} line {reader.line_num + 1}: {exc}", hint="check the CSV's quoting") from None


def _iter_lines(lines: Iterator[str], closing: Any) -> Iterator[tuple[str, list[str]]]:
    with closing:
        for line in lines:
            text = line.strip()
            if text and not text.startswith("#"):
                yield text, []
