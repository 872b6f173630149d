"""The magics' options, as IPython's ``magic_arguments`` decorators: ``%nextcaller?`` and ``--help`` show them.

Each bundle below decorates one magic in :mod:`.magics`; its docstring becomes
the description.  :func:`parse` splits a line like a shell (``"a b"`` stays one
word), prints the help for ``-h``/``--help``, and turns argparse's complaints
into one-line ``UsageError`` s that name the option the user typed.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument as _argument
from IPython.core.magic_arguments import kwds, magic_arguments

from ..api.text import control_problem, is_unicode, show_invalid
from ..batch.enrichment import ENRICH_FIELDS
from ..batch.frames import ROW_MODES
from ..redact import redact

__all__ = [
    "LOOKUP",
    "ENRICH",
    "UPDATE",
    "LOGIN",
    "PROFILE_ONLY",
    "parse",
    "help_text",
    "usage_line",
    "CELL_ONLY",
    "LINE_ONLY",
]

MAX_CONCURRENCY = 256


def concurrency(text: str) -> int:
    """``--concurrency N``: a whole number from 1 to 256."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_CONCURRENCY}")
    return value


def argument(*names: str, **options: Any) -> Any:
    """``magic_arguments.argument`` with a help text written plainly: argparse would read "%n" as a format."""
    if "help" in options:
        options["help"] = options["help"].replace("%", "%%")
    return _argument(*names, **options)


def _with(*decorators: Any) -> Callable[[Any], Any]:
    """Apply ``argument`` decorators in the order written, then build the parser."""

    def apply(func: Any) -> Any:
        for decorator in reversed(decorators):
            func = decorator(func)
        return magic_arguments()(func)

    return apply


_HELP = argument("-h", "--help", action="store_true", help="show this help and do nothing else")
_PROFILE = argument("--profile", metavar="P", help="credentials profile (default: %config NextCaller.profile)")
_REFRESH = argument("--refresh", action="store_true", help="ask the API again instead of using the cache")
_CONCURRENCY = argument(
    "--concurrency",
    type=concurrency,
    metavar="N",
    help=f"lookups in flight at once, 1-{MAX_CONCURRENCY} (default: %config NextCaller.concurrency)",
)
_DISPLAY = argument(
    "--display", action="store_true", help="with -o, show the table too (its first NextCaller.display_limit rows)"
)
_TO = argument("--to", metavar="FILE", help="also write the table to FILE.csv, or FILE.parquet (needs pyarrow)")
_RESUME = argument(
    "--resume",
    action="store_true",
    help="with --to FILE: keep the rows an interrupted run of the same input wrote to FILE and ask only the rest "
    "(a ledger beside FILE remembers)",
)
_MAX_REQUESTS = argument(
    "--max-requests",
    type=int,
    metavar="N",
    help="send at most N API requests; rows past the budget get status `skipped`",
)
_DRY_RUN = argument(
    "--dry-run",
    action="store_true",
    help="send nothing: the rows, distinct numbers, those the cache holds, and the requests a run would make",
)

# Options of %nextcaller that only %%nextcaller takes, and the other way round.
CELL_ONLY = ("display", "rows", "to", "concurrency", "resume", "max_requests", "dry_run")
LINE_ONLY = ("format",)

LOOKUP = _with(
    kwds(
        epilog="Settings: %config NextCaller.<name> = value — profile, concurrency, cache_ttl,\n"
        "return_dataframe, progress (auto|widget|text|none), display_limit; %config NextCaller lists them."
    ),
    argument("phone", nargs="*", help="%nextcaller: the number, in any common US format"),
    argument(
        "--format",
        choices=("card", "json", "xml"),
        help="%nextcaller: a card (default), the API's JSON document, or its XML",
    ),
    argument(
        "-o",
        "--output",
        metavar="VAR",
        help="store the result in VAR; %%nextcaller then shows only the summary line (see --display)",
    ),
    _DISPLAY,
    argument(
        "--rows",
        choices=ROW_MODES,
        default="line",
        help="%%nextcaller: one row per input line (default; max_fraud_threat is over all its records) "
        "or one row per record (a household's every person)",
    ),
    _TO,
    _RESUME,
    _MAX_REQUESTS,
    _DRY_RUN,
    _CONCURRENCY,
    _REFRESH,
    _PROFILE,
    argument(
        "--email",
        nargs="?",
        const=True,
        metavar="ADDRESS",
        help="API v2.1: %nextcaller --email ADDRESS looks up by email; %%nextcaller --email: the cell holds addresses",
    ),
    argument(
        "--fraud",
        action="store_true",
        help="API v2.1: %nextcaller --fraud NUMBER shows its fraud level; %%nextcaller --fraud adds spoofed and "
        "fraud_risk columns",
    ),
    _HELP,
)

ENRICH = _with(
    argument("frame", metavar="DF", help="the name of a pandas DataFrame variable"),
    argument("--column", default="phone", metavar="COL", help="the column holding the numbers (default: phone)"),
    argument(
        "--fields",
        metavar="A,B",
        help="the profile columns to add (default: all): " + ", ".join(ENRICH_FIELDS) + "; status and error always",
    ),
    argument("--prefix", default="", metavar="TEXT", help="put TEXT before each added column's name (e.g. nc_)"),
    argument(
        "-o",
        "--output",
        metavar="VAR",
        help="put an enriched copy in VAR and leave DF as it is (default: add the columns to DF itself)",
    ),
    _DISPLAY,
    _TO,
    _RESUME,
    _MAX_REQUESTS,
    _DRY_RUN,
    _CONCURRENCY,
    _REFRESH,
    _PROFILE,
    _HELP,
)

UPDATE = _with(
    argument("profile_id", metavar="ID", help="the record's id (30 hex characters, a lookup's `id`)"),
    argument(
        "changes",
        nargs="+",
        metavar="FIELD=VALUE",
        help="first_name, last_name, email, phone1-3, shipping_address1.line1|line2|city|state|zip_code "
        '(and shipping_address2.…); quote a value with spaces: "shipping_address1.line2=Apt 5B"',
    ),
    argument("--dry-run", action="store_true", help="show old → new and send nothing"),
    _PROFILE,
    _HELP,
)

LOGIN = _with(
    argument(
        "--profile",
        metavar="P",
        help="the profile to store the key under (default: the one lookups use: %config NextCaller.profile, "
        "NEXTCALLER_PROFILE, the config's default, then `default`)",
    ),
    argument(
        "--base-url",
        metavar="URL",
        help="the API's root, saved with the profile (default: NEXTCALLER_BASE_URL, then the profile's)",
    ),
    argument("--consumer-key", metavar="KEY", help="the consumer key (asked for when not given)"),
    argument("--no-verify", action="store_true", help="store the key without checking it with the API"),
    argument("--make-default", action="store_true", help="make this profile the default one (said when done)"),
    _HELP,
)

PROFILE_ONLY = _with(_PROFILE, _HELP)


def help_text(magic: Any) -> str:
    """The magic's full usage, as ``--help`` prints it (``%nextcaller``'s ends with the whole family's)."""
    return re.sub(r"^::\s*\n\s*", "usage: ", magic.__doc__ or magic.parser.format_help(), count=1)


def usage_line(magic: Any) -> str:
    """``%nextcaller_update [--dry-run] [--profile P] [-h] ID FIELD=VALUE ...`` on one line."""
    text = re.sub(r"^::\s*\n\s*", "", magic.parser.format_usage())
    return "  " + " ".join(text.split())


_NAME = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_MAX_EXPANDED = 1_000_000  # values from one {variable}: a bigger one is a mistake (a whole frame, not a column)


def expand(text: str, namespace: Mapping[str, Any], *, where: str, lines: bool) -> str:
    """``{name}`` replaced by the notebook variable's value, as jupysql does — safely: a bare name only.

    Nothing is evaluated (``{os.system('x')}`` is refused, not run): the name
    is looked up in ``namespace``.  A list, tuple, set, pandas Series or Index
    gives its items (one per line in a cell, shell-quoted words on a line); a
    string or number gives itself.  ``{{`` and ``}}`` are literal braces.
    """

    def value(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1).strip()
        if not name.isidentifier():
            raise UsageError(
                f"{where}: {{{name}}} is not a variable name — only {{name}} is expanded (nothing is evaluated); "
                "put the value in a variable first"
            )
        if name not in namespace:
            raise UsageError(f"{where}: {{{name}}}: there is no variable named {name!r}")
        return _as_text(namespace[name], name, where, lines)

    return _NAME.sub(value, text)


def _as_text(value: Any, name: str, where: str, lines: bool) -> str:
    if isinstance(value, str | int):
        items = [str(value)]
    elif isinstance(value, list | tuple | set | frozenset) or type(value).__name__ in ("Series", "Index"):
        items = ["" if v is None else str(v) for v in list(value)[: _MAX_EXPANDED + 1]]
    else:
        raise UsageError(
            f"{where}: {{{name}}} is a {type(value).__name__}; give a list, a pandas Series (a column) or a string"
        )
    if len(items) > _MAX_EXPANDED:
        raise UsageError(f"{where}: {{{name}}} has more than {_MAX_EXPANDED} values")
    if lines:
        bad = next((i for i in items if "\n" in i or "\r" in i), None)
        if bad is not None and len(items) > 1:
            raise UsageError(f"{where}: a value of {{{name}}} spans several lines; give one value per item")
        return "\n".join(items)
    return " ".join(shlex.quote(i) for i in items)


def parse(magic: Any, line: str) -> argparse.Namespace | None:
    """The options on ``line`` for ``magic``, or None after printing the help (``-h``, ``--help``)."""
    parser = magic.parser
    name = f"%{parser.prog}"
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc} (check the quotes)") from None
    bad = next((w for w in words if not is_unicode(w)), None)
    if bad is not None:  # a lone surrogate would make the record unwritable as XML
        raise UsageError(f"{name}: '{redact(show_invalid(bad))}' is not valid Unicode text — type it again")
    for i, word in enumerate(words, 1):  # ESC or a bidi override: never sent, never echoed
        problem = control_problem(word)
        if problem:
            raise UsageError(f"{name}: word {i} of the line {problem} — type it again without it")
    if "-h" in words or "--help" in words:
        print(help_text(magic))
        return None
    try:
        args = parser.parse_args(words)
    except UsageError as exc:
        raise UsageError(f"{name}: {exc} ({name} --help shows every option)") from None
    output = getattr(args, "output", None)
    if output and not output.isidentifier():  # before any request, not after
        raise UsageError(f"-o {output!r} is not a valid variable name")
    return args
