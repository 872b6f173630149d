"""``nextcaller-ops lookup``: numbers given on the line, or a file of them."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

from ...api.text import printable
from ...errors import APIError, BadResponseError, UsageError
from .. import _common as c
from .. import _lookup_by
from .._inputs import DEFAULT_ENCODING, check_encoding, read_inputs, scan
from .._pacing import progress_words

if TYPE_CHECKING:
    from ...api.phone import PhoneInput
    from ...batch.resume import Ledger, Resumed
    from ...batch.run import BatchSummary
    from ...client.client import NextCallerClient
    from ...client.fanout import BatchItem


EXIT_CODES = """\
exit codes (numbers on the line and --file alike):
  0  every number was found
  1  at least one number had no record, was not a phone number (a --file row)
     or failed at the API; the rows say which
  2  refused, nothing looked up: a bad argument, a bad number on the command
     line, an unreadable file or one not in --encoding (from stdin the run stops
     at that line), --format xml with several numbers
  3  incomplete: rows were skipped over --max-requests (their status says
     `skipped`); run again with a larger budget (with --resume: only those)
130  interrupted (Ctrl-C): the rows done are written; --resume goes on from there"""

EXIT_INCOMPLETE = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "look up phone numbers (on API v2.1 also an email address, or a name and an address)"
    p = sub.add_parser(
        "lookup",
        help=text,
        description=text,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(run=run)
    p.add_argument("phones", nargs="*", metavar="PHONE", help="numbers in any common US format")
    p.add_argument(
        "--format",
        choices=("text", "json", "xml", "csv"),
        help="output format (default: text; csv with --file); xml takes one number: "
        "it is the API's document, one per number",
    )
    p.add_argument(
        "--file",
        metavar="PATH",
        help="one number per line, or a CSV (comma, semicolon or tab) with a `phone` column ('-' = stdin); "
        "the output keeps the CSV's columns, the lookup's after them (one the lookup also writes, e.g. "
        "`phone`, as `input_phone`)",
    )
    p.add_argument("--column", metavar="NAME", help="with --file: the CSV column holding the numbers (default: phone)")
    p.add_argument(
        "--rows",
        choices=("line", "record"),
        default="line",
        help="csv/json: one row per number (default; with its record count and highest fraud threat) "
        "or one per record (a household's every person)",
    )
    p.add_argument(
        "--encoding",
        default=DEFAULT_ENCODING,
        metavar="NAME",
        help=f"the --file's text encoding (default {DEFAULT_ENCODING}: UTF-8 with or without a BOM; e.g. cp1252)",
    )
    p.add_argument("--output", "-o", metavar="PATH", help="with --file: write rows here instead of stdout")
    p.add_argument(
        "--concurrency",
        type=c.positive_int,
        default=None,
        metavar="N",
        help="lookups in flight at once (default from config, 8)",
    )
    p.add_argument("--refresh", action="store_true", help="bypass the cache")
    p.add_argument(
        "--max-requests",
        type=_budget,
        metavar="N",
        help="send at most N API requests (retries count); rows past it are `skipped` and the exit code is 3",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing: say how many rows, distinct numbers and cached answers there are, "
        "and the requests a real run would make",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="with --file and -o: go on from where an interrupted run of the same file stopped (a ledger "
        "beside the output, OUT.nextcaller-resume, remembers); rows already written are not asked again",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.add_argument("--profile", help="credentials profile")
    _lookup_by.add_arguments(p)  # --email, --name ... (API v2.1)


def _budget(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def run(args: argparse.Namespace) -> int:

    if _lookup_by.wanted(args):
        if args.dry_run or args.resume or args.max_requests is not None:
            raise UsageError("--dry-run, --resume and --max-requests are for numbers (on the line or --file)")
        return _lookup_by.run(args)
    if args.resume and not (args.file and args.output):
        raise UsageError(
            "--resume goes with --file and --output (the ledger lives beside the output)",
            hint="nextcaller-ops lookup --file in.csv -o out.csv --resume",
        )
    if args.resume and args.file == "-":
        raise UsageError("--resume needs a file, not stdin (stdin cannot be read again)")
    if args.file:
        if args.phones:
            raise UsageError("give numbers or --file, not both")
        return _lookup_file(args)
    if not args.phones:
        raise UsageError("no phone number given", hint="nextcaller-ops lookup 212-555-8383 (or --file PATH)")
    parsed = c.parse_phones(args.phones)
    if parsed is None:
        return c.EXIT_USAGE
    if args.dry_run:
        return _dry_run(args, [p.raw for p in parsed])
    fmt = args.format or "text"
    if args.max_requests is not None and fmt != "csv" and args.max_requests < len({p.number for p in parsed}):
        raise UsageError(
            f"--max-requests {args.max_requests}: {len(parsed)} numbers would need more",
            hint="raise it, or use --format csv (rows past the budget are then `skipped`)",
        )
    if fmt == "xml" and len(parsed) > 1:
        # Several XML documents glued together are no XML; the API has no envelope for several.
        raise UsageError(
            "--format xml takes one number (the API's XML is one document per number)",
            hint="give one number, or use --format json (one document per line) or csv for several",
        )
    if fmt == "csv":
        return _lookup_csv(args, [p.raw for p in parsed])
    status = c.EXIT_OK
    with c.client(args) as client:
        for i, phone in enumerate(parsed):
            if phone.extension:
                c.err(f"note: extension x{phone.extension} is not sent to the API")
            if fmt == "xml":
                status = max(status, _show_xml(client, phone))
                continue
            result = client.lookup(phone, refresh=args.refresh)
            if not result.found:
                status = c.EXIT_API
            if fmt == "json":
                doc = result.to_api()
                if len(parsed) > 1:  # JSON Lines: each line says which number it answers (a miss too)
                    doc = {"phone": phone.number, **doc}
                c.out(c.json_text(doc, indent=2 if len(parsed) == 1 else None))
                if not result.found:
                    c.err(_no_record(phone.number))
            else:
                from ...api.render import text_cards

                if i:
                    c.out()
                c.out(text_cards(result.profiles, phone.number))
    return status


def _no_record(number: str) -> str:
    from ...api.render import no_record_text

    return no_record_text(number)


def _show_xml(client: NextCallerClient, phone: PhoneInput) -> int:
    try:
        c.out(c.xml_text(client.lookup_raw(phone, "xml").rstrip()))
    except BadResponseError as exc:
        if exc.body:  # show what the API sent, and say what is wrong with it
            c.out(c.xml_text(exc.body.rstrip()))  # as sent, but nothing in it acts on the terminal
        raise
    except APIError as exc:
        if exc.status == 404:
            c.err(_no_record(phone.number))
            return c.EXIT_API
        raise
    return c.EXIT_OK


def _lookup_csv(args: argparse.Namespace, numbers: list[str]) -> int:
    """``lookup A B … --format csv``: a batch of the numbers on the line, one row each (the batch engine's rules)."""
    from ...api.render import batch_columns
    from ...batch.run import stream_batch

    status = c.EXIT_OK
    with c.client(args) as client:
        # v2.1 adds line type, spoof, age, social links
        columns = batch_columns(client.api_version, per_record=args.rows == "record")
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        with stream_batch(
            client, numbers, concurrency=args.concurrency, refresh=args.refresh, max_requests=args.max_requests
        ) as run:
            for item in run:
                writer.writerows(_rows(item, args.rows, columns))
                if item.status != "found":
                    status = c.EXIT_API
                    if item.error:
                        stop = " (stopped: every further number would fail the same way)"
                        c.err(
                            f"error: {c.error_line(item.error)}"
                            + (stop if item.error is run.summary.stopped_by else "")
                        )
    if run.summary.interrupted:
        c.err("interrupted")
        return c.EXIT_INTERRUPTED
    if run.summary.skipped:
        c.err(f"incomplete: {run.summary.skipped} skipped over --max-requests {args.max_requests}")
        return EXIT_INCOMPLETE
    return status


def _dry_run(args: argparse.Namespace, inputs: Iterable[str]) -> int:
    """``--dry-run``: read the numbers as a run would, send nothing, say what a run would ask."""
    from ...batch.run import dry_run

    with c.client(args) as client:
        plan = dry_run(inputs, lambda key: client.cache.get(key) is not None, refresh=args.refresh)
    c.out(plan.text())
    return c.EXIT_OK


def _rows(item: BatchItem, rows: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The output rows of one line: one (``--rows line``) or one per record (``--rows record``)."""
    from ...api.render import batch_row, record_rows

    return record_rows(item, columns) if rows == "record" else [batch_row(item, columns=columns)]


def output_columns(caller: list[str], lookup: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The caller's columns then the lookup's; a caller's column the lookup also writes is renamed ``input_<name>``.

    Returns the header and the renaming (the caller's name -> the name written).
    """
    taken = {name.lower() for name in lookup}
    renamed: dict[str, str] = {}
    header: list[str] = []
    for name in caller:
        written = f"input_{name}" if name.lower() in taken or not name else name
        while written.lower() in taken or written in header:  # a caller's `input_phone` too: never a clash
            written = f"input_{written}"
        renamed[name] = written
        header.append(written)
    return [*header, *lookup], renamed


def _lookup_file(args: argparse.Namespace) -> int:
    """``lookup --file``: streamed through the batch engine, one row per input (or record) as it completes."""
    from ...api.render import batch_columns, max_threat
    from ...batch.progress import TerminalProgress
    from ...batch.resume import SETTLED
    from ...batch.run import NoProgress, Progress, stream_batch

    fmt = args.format or "csv"
    if fmt == "xml":
        raise UsageError("--format xml does not fit --file", hint="use csv (default), json or text with --file")
    encoding = check_encoding(args.encoding)
    total = scan(args.file, encoding)  # a file not in the encoding is refused before any output
    inputs = read_inputs(args.file, encoding, args.column)
    if total is not None and inputs.has_header:
        total -= 1  # the header is no row to look up
    if args.dry_run:
        return _dry_run(args, inputs)
    client = c.client(args)
    progress: Progress = (
        NoProgress()
        if args.quiet
        else TerminalProgress(
            sys.stderr, summary=False, desc="lookup", note=lambda: progress_words(client.pacing_state())
        )
    )
    # v2.1 adds line type, spoof, age, social links
    columns = batch_columns(client.api_version, per_record=args.rows == "record")
    header, renamed = output_columns(inputs.columns, columns)
    ledger, earlier = _ledger(args, fmt, header) if args.resume else (None, None)
    if args.output and not args.resume:
        from ...batch.resume import ledger_path

        # A new output: a ledger left by an earlier --resume run no longer describes it
        with contextlib.suppress(FileNotFoundError):
            ledger_path(args.output).unlink()
    if earlier:
        inputs.skip(earlier.lines)
        if total is not None:
            total = max(0, total - earlier.lines)
    out: TextIO = _open_output(args.output, keep=earlier.size if earlier else None) if args.output else sys.stdout
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore") if fmt == "csv" else None
    if writer and not (earlier and earlier.size):
        writer.writeheader()
    if ledger is not None:
        out.flush()
        ledger.begin(earlier, _size(out))
    settling = True  # rows settle in input order until the first one a later run must ask again
    flushed = time.monotonic()
    restore = _sigterm_as_interrupt()  # a kill (SIGTERM) ends the run as Ctrl-C does: the rows done are written
    try:
        with (
            client,
            stream_batch(
                client,
                inputs,
                total=total,
                concurrency=args.concurrency,
                refresh=args.refresh,
                progress=progress,
                max_requests=args.max_requests,
            ) as run,
        ):
            if earlier:
                run.summary.resumed = earlier.lines
            for item in run:
                caller = {renamed[k]: v for k, v in inputs.row(item.index).items()}
                for row in _rows(item, args.rows, columns):
                    if writer:
                        writer.writerow({**caller, **row})
                    elif fmt == "json":
                        out.write(c.json_text({**caller, **row}) + "\n")
                    else:  # the line as read and the record's name: nothing a terminal would act on
                        out.write(_text_row(row, max_threat(item.profiles)) + "\n")
                if ledger is not None:
                    out.flush()  # the row on disk before the ledger says so
                    settling = settling and item.status in SETTLED
                    if settling:
                        ledger.settle(1, _size(out))
                elif time.monotonic() - flushed >= FLUSH_EVERY:  # not a flush per row: a write per row costs
                    out.flush()
                    flushed = time.monotonic()
            out.flush()
    finally:
        restore()
        if args.output:
            out.close()
        if ledger is not None:
            ledger.close()
    summary = run.summary
    if not args.quiet:
        c.err(summary_line(summary))
    if summary.stopped_by is not None:
        c.err(f"error: {c.error_line(summary.stopped_by)} (stopped: every further row would fail the same way)")
        return c.EXIT_API
    if summary.interrupted:
        c.err("interrupted" + (" (--resume goes on from here)" if args.resume else ""))
        return c.EXIT_INTERRUPTED
    if summary.skipped:
        c.err(
            f"incomplete: {summary.skipped} row{'s' if summary.skipped != 1 else ''} skipped over --max-requests "
            f"{args.max_requests} (run again with --resume and a larger budget for only those)"
        )
        return EXIT_INCOMPLETE
    # The positional path's rule: 0 only when every row was found.
    return c.EXIT_OK if summary.found == summary.done else c.EXIT_API


FLUSH_EVERY = 0.5  # seconds: rows done reach the output at least this often (and at the end, Ctrl-C and kill)


def _sigterm_as_interrupt() -> Callable[[], None]:
    """SIGTERM raises KeyboardInterrupt in the run (kept rows, flushed output); returns what restores the handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach the main thread only (a test calling main() from another)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, before)

    return restore


def _ledger(args: argparse.Namespace, fmt: str, header: list[str]) -> tuple[Ledger, Resumed | None]:
    """The output's ledger and what an earlier run of this same input settled (None: start from the top)."""
    from ...batch.resume import Ledger, file_hash

    try:
        digest = file_hash(args.file)
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}", hint="check the path given to --file") from None
    how = {"format": fmt, "rows": args.rows, "columns": header if fmt != "text" else []}
    ledger = Ledger(args.output, digest, how)
    earlier = ledger.earlier()
    if earlier is None and os.path.exists(args.output) and os.path.getsize(args.output):
        c.err(f"note: no earlier run of {args.file} to resume in {args.output}: starting from the first row")
    return ledger, earlier


def _size(out: TextIO) -> int:
    return os.fstat(out.fileno()).st_size


def _text_row(row: dict[str, Any], threat: str) -> str:
    """``input  status  name  (2 records, highest fraud threat: high)``: printable, tab-separated."""
    shown = [printable(str(row[k] or "")) for k in ("input", "status")]
    shown.append(printable(row["name"] or row["error"]))
    records = int(row["records"] or 0)
    if records > 1 or threat:
        words = [f"{records} record{'s' if records != 1 else ''}"] if records > 1 else []
        words += [f"highest fraud threat: {printable(threat)}"] if threat else []
        shown.append(f"({', '.join(words)})")
    return "\t".join(shown)


def summary_line(summary: BatchSummary) -> str:
    """The CLI's words for a batch: ``5 rows: 1 invalid, 3 found, 1 not found — paced at 950 requests/s (…)``."""
    words = [f"{n} {status.replace('_', ' ')}" for status, n in sorted(summary.by_status().items())]
    words = [w + (f" (over the budget of {summary.budget} requests)" if w.endswith(" skipped") else "") for w in words]
    line = f"{summary.done} rows: {', '.join(words) or 'no input'}"
    if summary.resumed:
        line += f" — and {summary.resumed_text()}"
    paced = summary.pacing_text()
    return line + (f" — {paced}" if paced else "")


def _open_output(path: str, keep: int | None = None) -> TextIO:
    """The output, new; or with ``keep``, its first ``keep`` bytes kept (a resumed run appends after them)."""
    try:
        if keep is not None:
            os.truncate(path, keep)  # a row half written when the earlier run died goes
            return open(path, "a", encoding="utf-8", newline="")
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}", hint="check the path given to --output") from None
