"""The ``%nextcaller`` magics: parse the line, call the core, return something that shows itself."""

from __future__ import annotations

import getpass
import sys
import warnings
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from traitlets import Bool, Float, Int, Unicode

from .. import errors
from . import _args
from .results import CallerResult, CorrectionResult
from .words import error_line, usage_error

if TYPE_CHECKING:
    from ..client import NextCallerClient

__all__ = ["NextCaller", "MAGIC_NAMES"]

MAGIC_NAMES = ("nextcaller", "nextcaller_update", "nextcaller_login", "nextcaller_logout", "nextcaller_status")


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

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self._clients: dict[tuple, NextCallerClient] = {}

    # -- plumbing ---------------------------------------------------------------------
    def _client(self, profile: str | None = None) -> NextCallerClient:
        from ..audit import local_auditor
        from ..client import NextCallerClient
        from ..config import load_settings
        from ..credentials import load_credentials

        settings = load_settings(
            profile or self.profile or None, cache_ttl=self.cache_ttl, concurrency=self.concurrency
        )
        credentials = load_credentials(settings.profile)
        key = (settings.profile, settings.base_url, credentials.consumer_key, settings.cache_ttl)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = NextCallerClient(credentials, settings, audit=local_auditor("notebook"))
        return client

    def _forget_clients(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _store(self, name: str | None, value: Any) -> None:
        if name and self.shell is not None:
            self.shell.user_ns[name] = value

    def _profile_name(self, given: str | None) -> str:
        return given or self.profile or "default"

    # -- %nextcaller / %%nextcaller ------------------------------------------------------
    @line_cell_magic
    def nextcaller(self, line: str, cell: str | None = None) -> Any:
        """Look up a number (line magic) or a column of numbers (cell magic); see the package doc."""
        try:
            if cell is None:
                return self._lookup_line(line)
            return self._lookup_cell(line, cell)
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None

    def _lookup_line(self, line: str) -> CallerResult:
        from ..models import parse_records_json, parse_xml_document
        from ..phone import parse

        args = _args.parse(_args.LINE, line)
        phone = parse(" ".join(args.phone))
        client = self._client(args.profile)
        if args.format == "xml":
            raw = client.lookup_raw(phone, "xml")
            profiles = tuple(parse_records_json(parse_xml_document(raw)))
            result = CallerResult(phone.number, profiles, extension=phone.extension, fmt="xml", raw=raw)
        else:
            found = client.lookup(phone, refresh=args.refresh)
            result = CallerResult(
                found.phone, found.profiles, extension=found.extension, cached=found.cached, fmt=args.format
            )
        self._store(args.output, result)
        return result

    def _lookup_cell(self, line: str, cell: str) -> Any:
        from ..render import batch_row

        args = _args.parse(_args.CELL, line)
        numbers = [text.split("#", 1)[0].strip() for text in cell.splitlines()]
        numbers = [n for n in numbers if n]
        if not numbers:
            raise UsageError("%%nextcaller: the cell has no numbers (one per line; # starts a comment)")
        client = self._client(args.profile)
        concurrency = args.concurrency or self.concurrency
        if not 1 <= concurrency <= 256:
            raise UsageError("--concurrency must be between 1 and 256")
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

    def _progress(self, total: int) -> Any:
        if not self.progress:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            return tqdm(total=total, unit="num", desc="nextcaller", leave=False, file=sys.stderr)

    def _table(self, rows: list[dict[str, Any]]) -> Any:
        from ..render import BATCH_COLUMNS

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

    # -- corrections ----------------------------------------------------------------------
    @line_magic
    def nextcaller_update(self, line: str) -> CorrectionResult:
        """%nextcaller_update ID field=value ... — post a correction, show what changed."""
        from .. import corrections
        from ..correction_fields import parse_assignments

        args = _args.parse(_args.UPDATE, line)
        try:
            changes = parse_assignments(args.changes)
            corrections.prepare(None, args.profile_id, changes, compare=False)  # refuse bad input before any request
            client = self._client(args.profile)
            plan = corrections.prepare(client, args.profile_id, changes)
            return CorrectionResult(corrections.send(client, plan))
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None

    # -- credentials ----------------------------------------------------------------------
    @line_magic
    def nextcaller_login(self, line: str) -> None:
        """%nextcaller_login [--profile P] [--base-url URL] — asks for the key and secret (never echoed)."""
        from .. import account

        args = _args.parse(_args.LOGIN, line)
        profile = self._profile_name(args.profile)
        try:
            key = args.consumer_key or input("Consumer key: ").strip()
            secret = getpass.getpass("Consumer secret: ").strip()
        except Exception as exc:  # e.g. a kernel that does not allow stdin
            raise UsageError(
                f"cannot ask for the secret here ({type(exc).__name__}); "
                "run `nextcaller-ops login` in a terminal instead"
            ) from None
        try:
            result = account.login(profile, key, secret, base_url=args.base_url, require_verified=True)
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None
        self._forget_clients()
        print(f"Stored consumer key {result.key} for profile {profile!r} (verified with {result.base_url}).")

    @line_magic
    def nextcaller_logout(self, line: str) -> None:
        """%nextcaller_logout [--profile P] — remove the profile's key and secret from the keyring."""
        from .. import account

        args = _args.parse(_args.PROFILE_ONLY, line)
        profile = self._profile_name(args.profile)
        try:
            removed = account.logout(profile)
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None
        self._forget_clients()
        print(
            f"Removed profile {profile!r} from the keyring." if removed else f"Profile {profile!r} had nothing stored."
        )

    @line_magic
    def nextcaller_status(self, line: str) -> None:
        """%nextcaller_status — profile, base URL, masked key, keyring backend, a live check."""
        from .. import account
        from ..config import load_settings

        args = _args.parse(_args.PROFILE_ONLY, line)
        try:
            settings = load_settings(args.profile or self.profile or None)
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None
        try:
            client: NextCallerClient | None = self._client(args.profile)
        except errors.NextCallerError as exc:
            client, problem = None, exc
        report = account.status(settings=settings, client=client)
        lines = [
            f"profile:  {settings.profile}",
            f"base URL: {settings.base_url}",
            f"keyring:  {report.keyring_backend}",
        ]
        if client is None:
            lines.append(f"API:      not usable — {error_line(problem)}")
        else:
            lines.append(f"key:      {report.key} (from {report.key_source})")
            check = report.check
            if check is not None and check.error is None:
                lines.append(f"API:      ok ({check.latency_ms} ms); cache holds {len(client.cache)} lookup(s)")
            elif check is not None and check.error is not None:
                lines.append(f"API:      not usable — {error_line(check.error)}")
        print("\n".join(lines))
