"""IPython magics for Next Caller lookups.

Load with ``%load_ext nextcaller_ops``, then::

    %nextcaller 212-555-8383                # the caller's card (HTML in Jupyter, text in a terminal)
    r = %nextcaller (212) 555-8383 --refresh
    %nextcaller 2125558383 --format json    # the API's own document
    %nextcaller 2125558383 -o caller        # also store the result in `caller`

    %%nextcaller -o calls --concurrency 16  # one number per line -> a DataFrame, in order
    2125558383
    (312) 555-0142   # comments and blank lines are ignored

    %nextcaller_update 97d949a413f4ea8b85e9586e1f2d9a email=jerry@example.com shipping_address1.line2="Apt 5B"
    %nextcaller_login --profile work        # asks for the key and secret, stores them in the OS keyring
    %nextcaller_logout --profile work
    %nextcaller_status

    %config NextCaller.concurrency = 16     # also: profile, cache_ttl, return_dataframe, progress

Errors are one line (IPython's ``UsageError``), never a traceback, never a secret.
"""

from __future__ import annotations

import getpass
import html
import json
import shlex
import sys
import warnings
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser
from traitlets import Bool, Float, Int, Unicode

from . import errors
from .models import Profile

__all__ = ["NextCaller", "CallerResult", "load_ipython_extension", "unload_ipython_extension"]


class CallerResult:
    """What ``%nextcaller`` returns: the profiles for one number, shown as cards."""

    def __init__(
        self,
        phone: str,
        profiles: tuple[Profile, ...],
        *,
        extension: str | None = None,
        cached: bool = False,
        fmt: str = "card",
        raw: str | None = None,
    ):
        self.phone = phone
        self.profiles = profiles
        self.extension = extension
        self.cached = cached
        self.format = fmt
        self.raw = raw

    @property
    def found(self) -> bool:
        return bool(self.profiles)

    @property
    def document(self) -> dict[str, Any]:
        """The API's JSON document for this lookup."""
        return {"records": [p.to_api() for p in self.profiles]}

    def __len__(self) -> int:
        return len(self.profiles)

    def __iter__(self):
        return iter(self.profiles)

    def __getitem__(self, index: int) -> Profile:
        return self.profiles[index]

    def _sentence(self) -> str:
        n = self.phone
        return f"No record for ({n[:3]}) {n[3:6]}-{n[6:]}."

    def __repr__(self) -> str:
        if self.format == "xml" and self.raw is not None:
            return self.raw.rstrip()
        if self.format == "json":
            return json.dumps(self.document, indent=2, ensure_ascii=False)
        if not self.found:
            return self._sentence()
        from .render import text_card

        return "\n\n".join(text_card(p) for p in self.profiles)

    def _repr_html_(self) -> str | None:
        if self.format in ("json", "xml"):
            body = self.raw if self.format == "xml" and self.raw is not None else repr(self)
            return f"<pre>{html.escape(body)}</pre>"
        if not self.found:
            from .render import FONT_CSS

            return f'<p style="{FONT_CSS}">{html.escape(self._sentence())}</p>'
        from .render import html_card

        return "".join(html_card(p) for p in self.profiles)


def _parser(prog: str, description: str) -> MagicArgumentParser:
    return MagicArgumentParser(prog=prog, description=description, add_help=False)


_LINE = _parser("%nextcaller", "Look up one phone number.")
_LINE.add_argument("phone", nargs="+", help="the number, in any common US format")
_LINE.add_argument("--format", choices=("card", "json", "xml"), default="card")
_LINE.add_argument("--refresh", action="store_true", help="bypass the cache")
_LINE.add_argument("-o", "--output", metavar="VAR", help="store the result in this variable")
_LINE.add_argument("--profile", help="credentials profile")

_CELL = _parser("%%nextcaller", "One number per line -> a DataFrame, one row per line.")
_CELL.add_argument("-o", "--output", metavar="VAR", help="store the DataFrame in this variable")
_CELL.add_argument("--concurrency", type=int, help="lookups in flight at once")
_CELL.add_argument("--refresh", action="store_true", help="bypass the cache")
_CELL.add_argument("--profile", help="credentials profile")

_UPDATE = _parser("%nextcaller_update", "Post a correction: ID field=value ...")
_UPDATE.add_argument("profile_id")
_UPDATE.add_argument("changes", nargs="+", metavar="FIELD=VALUE")
_UPDATE.add_argument("--profile", help="credentials profile")

_LOGIN = _parser("%nextcaller_login", "Store a consumer key and secret in the OS keyring.")
_LOGIN.add_argument("--profile", default=None)
_LOGIN.add_argument("--base-url", default=None)
_LOGIN.add_argument("--consumer-key", default=None)

_PROFILE_ONLY = _parser("%nextcaller_logout", "Forget a profile's key and secret.")
_PROFILE_ONLY.add_argument("--profile", default=None)


def _parse(parser: MagicArgumentParser, line: str):
    # Shell-style quoting ("shipping_address1.line2=Apt 5B"); MagicArgumentParser
    # turns argparse's complaints into a one-line UsageError.
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{parser.prog}: {exc} (check the quotes)") from None
    args = parser.parse_args(words)
    output = getattr(args, "output", None)
    if output and not output.isidentifier():  # before any request, not after
        raise UsageError(f"-o {output!r} is not a valid variable name")
    return args


@magics_class
class NextCaller(Magics):
    """The ``%nextcaller`` family; settings via ``%config NextCaller.<name> = ...``."""

    profile = Unicode("", help="Credentials profile (empty: NEXTCALLER_PROFILE or the config's default).").tag(
        config=True
    )
    concurrency = Int(8, help="Lookups in flight at once for %%nextcaller.").tag(config=True)
    cache_ttl = Float(300.0, help="Seconds a found record is reused without asking the API again.").tag(config=True)
    return_dataframe = Bool(True, help="%%nextcaller returns a pandas DataFrame (else a list of dicts).").tag(
        config=True
    )
    progress = Bool(True, help="Show a progress bar for %%nextcaller batches.").tag(config=True)

    def __init__(self, shell=None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self._clients: dict[tuple, Any] = {}

    # -- plumbing ---------------------------------------------------------------------
    def _client(self, profile: str | None = None):
        from .client import NextCallerClient
        from .config import load_settings
        from .credentials import load_credentials

        settings = load_settings(
            profile or self.profile or None, cache_ttl=self.cache_ttl, concurrency=self.concurrency
        )
        credentials = load_credentials(settings.profile)
        key = (settings.profile, settings.base_url, credentials.consumer_key, settings.cache_ttl)
        client = self._clients.get(key)
        if client is None:
            from .audit import local_auditor

            client = self._clients[key] = NextCallerClient(credentials, settings, audit=local_auditor("notebook"))
        return client

    def _forget_clients(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _store(self, name: str | None, value: Any) -> None:
        if name:
            self.shell.user_ns[name] = value

    # -- %nextcaller / %%nextcaller ---------------------------------------------------------
    @line_cell_magic
    def nextcaller(self, line: str, cell: str | None = None):
        """Look up a number (line magic) or a column of numbers (cell magic); see the module doc."""
        try:
            if cell is None:
                return self._lookup_line(line)
            return self._lookup_cell(line, cell)
        except errors.NextCallerError as exc:
            raise UsageError(str(exc)) from None

    def _lookup_line(self, line: str) -> CallerResult:
        args = _parse(_LINE, line)
        from .phone import parse

        phone = parse(" ".join(args.phone))
        client = self._client(args.profile)
        if args.format == "xml":
            raw = client.lookup_raw(phone, "xml")
            from .models import parse_records_json, parse_xml_document

            profiles = tuple(parse_records_json(parse_xml_document(raw)))
            result = CallerResult(phone.number, profiles, extension=phone.extension, fmt="xml", raw=raw)
        else:
            found = client.lookup(phone, refresh=args.refresh)
            result = CallerResult(
                found.phone, found.profiles, extension=found.extension, cached=found.cached, fmt=args.format
            )
        self._store(args.output, result)
        return result

    def _lookup_cell(self, line: str, cell: str):
        args = _parse(_CELL, line)
        numbers = [text.split("#", 1)[0].strip() for text in cell.splitlines()]
        numbers = [n for n in numbers if n]
        if not numbers:
            raise UsageError("%%nextcaller: the cell has no numbers (one per line; # starts a comment)")
        client = self._client(args.profile)
        concurrency = args.concurrency or self.concurrency
        if not 1 <= concurrency <= 256:
            raise UsageError("--concurrency must be between 1 and 256")
        from .render import batch_row

        rows: list[dict[str, Any]] = []
        bar = self._progress(len(numbers))
        try:
            for item in client.iter_lookup_many(numbers, concurrency=concurrency, refresh=args.refresh):
                rows.append(batch_row(item))
                if bar is not None:
                    bar.update(1)
        except KeyboardInterrupt:
            print(f"Interrupted: returning the {len(rows)} of {len(numbers)} rows done so far.", file=sys.stderr)
        finally:
            if bar is not None:
                bar.close()
        table = self._table(rows)
        self._store(args.output, table)
        return table

    def _progress(self, total: int):
        if not self.progress:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            return tqdm(total=total, unit="num", desc="nextcaller", leave=False, file=sys.stderr)

    def _table(self, rows: list[dict[str, Any]]):
        from .render import BATCH_COLUMNS

        if not self.return_dataframe:
            return rows
        try:
            import pandas as pd
        except ImportError:
            print(
                "pandas is not installed: returning a list of dicts "
                "(pip install 'nextcaller-ops[notebook]' for DataFrames)",
                file=sys.stderr,
            )
            return rows
        return pd.DataFrame(rows, columns=list(BATCH_COLUMNS))

    # -- corrections -------------------------------------------------------------------
    @line_magic
    def nextcaller_update(self, line: str):
        """%nextcaller_update ID field=value ... — post a correction, show what changed."""
        try:
            return self._update(line)
        except errors.NextCallerError as exc:
            raise UsageError(str(exc)) from None

    def _update(self, line: str):
        from .client import _check_id
        from .models import build_correction, correction_view, diff_correction, flatten_correction, parse_assignments

        args = _parse(_UPDATE, line)
        pid = _check_id(args.profile_id)
        changes = parse_assignments(args.changes)
        build_correction(changes)  # refuse unknown fields before any request
        client = self._client(args.profile)
        # Read the record first: it shows old -> new and lets unchanged fields be dropped.
        profile = client.get_profile(pid)
        current = correction_view(profile)
        to_send = flatten_correction(diff_correction(profile, changes))
        if not to_send:
            return CorrectionResult(pid, {}, current)
        sent = client.update_profile(pid, to_send)
        return CorrectionResult(pid, flatten_correction(sent), current)

    # -- credentials -------------------------------------------------------------------
    @line_magic
    def nextcaller_login(self, line: str):
        """%nextcaller_login [--profile P] [--base-url URL] — asks for the key and secret (never echoed)."""
        from .client import NextCallerClient
        from .config import load_settings, save_profile_settings
        from .credentials import Credentials, mask, store_credentials

        args = _parse(_LOGIN, line)
        profile = args.profile or self.profile or "default"
        try:
            key = args.consumer_key or input("Consumer key: ").strip()
            secret = getpass.getpass("Consumer secret: ").strip()
        except Exception as exc:  # e.g. a kernel that does not allow stdin
            raise UsageError(
                f"cannot ask for the secret here ({type(exc).__name__}); "
                "run `nextcaller-ops login` in a terminal instead"
            ) from None
        if not key or not secret:
            raise UsageError("both a consumer key and a secret are needed")
        try:
            settings = load_settings(profile, env={}, base_url=args.base_url)
            with NextCallerClient(Credentials(key, secret, source="explicit"), settings) as client:
                client.check()
            store_credentials(profile, key, secret)
            save_profile_settings(profile, base_url=settings.base_url)
        except errors.NextCallerError as exc:
            raise UsageError(str(exc)) from None
        self._forget_clients()
        print(f"Stored consumer key {mask(key)} for profile {profile!r} (verified with {settings.base_url}).")

    @line_magic
    def nextcaller_logout(self, line: str):
        """%nextcaller_logout [--profile P] — remove the profile's key and secret from the keyring."""
        from .credentials import delete_credentials

        args = _parse(_PROFILE_ONLY, line)
        profile = args.profile or self.profile or "default"
        try:
            removed = delete_credentials(profile)
        except errors.NextCallerError as exc:
            raise UsageError(str(exc)) from None
        self._forget_clients()
        print(
            f"Removed profile {profile!r} from the keyring." if removed else f"Profile {profile!r} had nothing stored."
        )

    @line_magic
    def nextcaller_status(self, line: str):
        """%nextcaller_status — profile, base URL, masked key, keyring backend, a live check."""
        from .config import load_settings
        from .credentials import keyring_backend_name, mask

        args = _parse(_PROFILE_ONLY, line)
        try:
            settings = load_settings(args.profile or self.profile or None)
        except errors.NextCallerError as exc:
            raise UsageError(str(exc)) from None
        lines = [
            f"profile:  {settings.profile}",
            f"base URL: {settings.base_url}",
            f"keyring:  {keyring_backend_name()}",
        ]
        try:
            client = self._client(args.profile)
            lines.append(f"key:      {mask(client.credentials.consumer_key)} (from {client.credentials.source})")
            check = client.check()
            lines.append(f"API:      ok ({check['latency_ms']} ms); cache holds {len(client.cache)} lookup(s)")
        except errors.NextCallerError as exc:
            lines.append(f"API:      not usable — {exc}")
        print("\n".join(lines))


class CorrectionResult:
    """What ``%nextcaller_update`` returns: the fields sent, with their old values."""

    def __init__(self, profile_id: str, sent: dict[str, str], before: dict[str, str]):
        self.profile_id = profile_id
        self.sent = sent
        self.before = before

    def __repr__(self) -> str:
        if not self.sent:
            return f"Nothing to correct for {self.profile_id}: the record already has these values."
        lines = [f"Correction sent for {self.profile_id}:"]
        for name, value in self.sent.items():
            old = self.before.get(name)
            lines.append(f"  {name}: {old!r} → {value!r}" if old is not None else f"  {name}: {value!r}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from .render import FONT_CSS

        e = html.escape
        if not self.sent:
            return f'<p style="{FONT_CSS}">{e(repr(self))}</p>'
        rows = "".join(
            f"<tr><td>{e(k)}</td><td><s>{e(self.before.get(k, ''))}</s></td><td>{e(v)}</td></tr>"
            for k, v in self.sent.items()
        )
        return (
            f'<div style="{FONT_CSS}"><p>Correction sent for <code>{e(self.profile_id)}</code>:</p>'
            f'<table style="text-align:left"><tr><th>field</th><th>was</th><th>now</th></tr>{rows}</table></div>'
        )


def load_ipython_extension(ipython) -> None:
    from .redact import install

    install()  # no secret or full phone number in any log record of this kernel
    magics = NextCaller(shell=ipython)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)


def unload_ipython_extension(ipython) -> None:
    for magics in [m for m in ipython.configurables if isinstance(m, NextCaller)]:
        magics._forget_clients()
        ipython.configurables.remove(magics)
    registry = ipython.magics_manager.magics
    for kind in ("line", "cell"):
        for name in ("nextcaller", "nextcaller_update", "nextcaller_login", "nextcaller_logout", "nextcaller_status"):
            registry[kind].pop(name, None)
