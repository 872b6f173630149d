"""The ``nextcaller-ops`` command: parse, dispatch to a verb in :mod:`.commands`, map errors to exit codes.

Exit codes: 0 all found / done · 1 an API error or no record · 2 refused before
any request (bad input, no credentials) · 130 interrupted.  Errors are one
line on stderr with the API's code and what to do; never a traceback
(``--debug`` shows one).  Imports are lazy so ``--help`` and ``lookup`` start fast.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import CredentialsError, NextCallerError, UsageError
from ..settings_names import check_environment
from ._common import EXIT_API, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, err, error_line
from .commands import MODULES

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_API", "EXIT_USAGE", "EXIT_INTERRUPTED"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nextcaller-ops",
        description="Who is calling? Look numbers up in the Next Caller API, correct records, "
        "run the Slack bot or the local sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES:
        module.add_parser(sub)
    return parser


# At DEBUG these log the signature and the whole signed base string (redact() removes both
# too): nothing in them helps a person at a terminal, so they stay at INFO even with -vv.
_QUIET_AT_DEBUG = ("oauthlib", "requests_oauthlib")


def _setup_logging(verbosity: int) -> tuple[logging.Handler, dict[str, int]]:
    """A stderr handler for this run, and the levels it changed; ``main`` undoes both at the end."""
    from ..logs import configure_logging

    level = logging.WARNING if verbosity == 0 else (logging.INFO if verbosity == 1 else logging.DEBUG)
    # The same set-up as the bot's (NEXTCALLER_OPS_LOG_FORMAT, timestamps, redaction), surface=cli.
    handler = configure_logging("cli", level=level, stream=sys.stderr)
    changed = {}
    for name in _QUIET_AT_DEBUG:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            changed[name] = logger.level
            logger.setLevel(logging.INFO)
    return handler, changed


def _unusable_argument(argv: Sequence[str]) -> str | None:
    """The line to print when an argument is not valid text (a terminal in another encoding)
    or holds a control character (ESC ``]0;…`` BEL would retitle the terminal that shows it)."""
    from ..api.text import control_problem, is_unicode, show_invalid
    from ..redact import redact

    for i, arg in enumerate(argv, 1):
        if not is_unicode(arg):
            return (
                f"error: argument {i} ({redact(show_invalid(arg))}) is not valid UTF-8 text — "
                "the terminal sent it in another encoding (Latin-1?); switch it to UTF-8 "
                "(e.g. LANG=C.UTF-8) and type it again"
            )
        problem = control_problem(arg)
        if problem:  # never echoed: it may be an address, or a secret given on the line
            if arg.startswith("--") and "=" in arg:
                where = f" ({show_invalid(arg.split('=', 1)[0])}=…)"
            elif i > 1:
                where = f" (after {redact(show_invalid(argv[i - 2]))})"
            else:
                where = ""
            return f"error: argument {i}{where} {problem} — type it again without it"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Before parsing: argparse would echo the raw argument, a lone surrogate would travel
    # into a correction and make the record unwritable as XML, and a control character
    # into a query, a correction or a refusal printed on someone's terminal.
    bad = _unusable_argument(argv)
    if bad:
        err(bad)
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    args.cli_main = main  # `demo` runs the CLI itself
    from ..logs import log_format

    try:
        log_format()  # NEXTCALLER_OPS_LOG_FORMAT is plain or json: anything else is one line, before any log
    except UsageError as exc:
        err(f"error: {error_line(exc)}")
        return EXIT_USAGE
    _handler, changed_levels = _setup_logging(args.verbose)
    try:
        # Every verb, `bot` included: a misspelt NEXTCALLER_OPS_* setting must never be ignored.
        check_environment()
        return int(args.run(args))
    except (UsageError, CredentialsError) as exc:
        err(f"error: {error_line(exc)}")
        return EXIT_USAGE
    except NextCallerError as exc:
        err(f"error: {error_line(exc)}")
        return EXIT_API
    except KeyboardInterrupt:
        err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `nextcaller-ops lookup --file x | head`: the reader left; that is fine.
        try:
            sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"))  # noqa: SIM115 - lives until exit
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # the last line of defence: no traceback reaches a person
        if args.debug:
            raise
        from ..redact import redact

        err(
            f"internal error: {type(exc).__name__}: {redact(str(exc))[:200]} "
            "— please report it; --debug shows the traceback"
        )
        return EXIT_API
    finally:
        # main() also runs inside other programs (the demo, tests): leave no handler
        # behind on a stream that may be closed by then.
        from ..logs import remove_handler

        remove_handler()
        for name, previous in changed_levels.items():
            logging.getLogger(name).setLevel(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
