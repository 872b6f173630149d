"""The magics' command lines: argparse parsers that fail as one-line ``UsageError``s."""

from __future__ import annotations

import argparse
import shlex

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from ..redact import redact
from ..text import is_unicode, show_invalid


def _parser(prog: str, description: str) -> MagicArgumentParser:
    return MagicArgumentParser(prog=prog, description=description, add_help=False)


LINE = _parser("%nextcaller", "Look up one phone number.")
LINE.add_argument("phone", nargs="+", help="the number, in any common US format")
LINE.add_argument("--format", choices=("card", "json", "xml"), default="card")
LINE.add_argument("--refresh", action="store_true", help="bypass the cache")
LINE.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")
LINE.add_argument("--profile", help="credentials profile")

CELL = _parser("%%nextcaller", "One number per line -> a DataFrame, one row per line.")
CELL.add_argument("-o", "--output", metavar="VAR", help="store the DataFrame in this variable")
CELL.add_argument("--concurrency", type=int, help="lookups in flight at once")
CELL.add_argument("--refresh", action="store_true", help="bypass the cache")
CELL.add_argument("--profile", help="credentials profile")

UPDATE = _parser("%nextcaller_update", "Post a correction: ID field=value ...")
UPDATE.add_argument("profile_id")
UPDATE.add_argument("changes", nargs="+", metavar="FIELD=VALUE")
UPDATE.add_argument("--profile", help="credentials profile")

LOGIN = _parser("%nextcaller_login", "Store a consumer key and secret in the OS keyring.")
LOGIN.add_argument("--profile", default=None)
LOGIN.add_argument("--base-url", default=None)
LOGIN.add_argument("--consumer-key", default=None)

PROFILE_ONLY = _parser("%nextcaller_logout", "Forget a profile's key and secret.")
PROFILE_ONLY.add_argument("--profile", default=None)


def parse(parser: MagicArgumentParser, line: str) -> argparse.Namespace:
    """Shell-style quoting (``"shipping_address1.line2=Apt 5B"``); argparse's complaints become one line."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{parser.prog}: {exc} (check the quotes)") from None
    bad = next((w for w in words if not is_unicode(w)), None)
    if bad is not None:  # a lone surrogate would make the record unwritable as XML
        raise UsageError(f"{parser.prog}: '{redact(show_invalid(bad))}' is not valid Unicode text — type it again")
    args = parser.parse_args(words)
    output = getattr(args, "output", None)
    if output and not output.isidentifier():  # before any request, not after
        raise UsageError(f"-o {output!r} is not a valid variable name")
    return args
