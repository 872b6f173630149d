"""The ``%nextcaller`` magics: settings, the kernel's clients, and each magic's entry point.

Each magic parses its line (:mod:`._args`: ``--help`` and ``?`` show the full
usage), calls the core, and returns something that shows itself; any
:class:`~nextcaller_ops.errors.NextCallerError` becomes one line.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from traitlets import Bool, Float, Int, TraitError, Unicode, Union, validate

from .. import errors
from . import _args, accounts
from . import verify as _verify
from .progress import PROGRESS_MODES, have_widgets
from .results import CorrectionResult
from .words import usage_error

if TYPE_CHECKING:
    from ..client.client import NextCallerClient

__all__ = ["NextCaller", "MAGIC_NAMES"]

MAGIC_NAMES = (
    "nextcaller",
    "nextcaller_enrich",
    "nextcaller_update",
    "nextcaller_verify",
    "nextcaller_login",
    "nextcaller_logout",
    "nextcaller_status",
)
# Secrets are told apart by a keyed hash: the key lives only in this process, so the digest says nothing.
_DIGEST_KEY = os.urandom(16)


def _digest(secret: str) -> str:
    return hashlib.blake2b(secret.encode(), key=_DIGEST_KEY, digest_size=16).hexdigest()


def _refuse(name: str, value: Any, rule: str) -> TraitError:
    return TraitError(f"NextCaller.{name} = {value!r} refused: {rule}")


@magics_class
class NextCaller(Magics):
    """The ``%nextcaller`` family; settings via ``%config NextCaller.<name> = ...``."""

    profile = Unicode("", help="Credentials profile (empty: NEXTCALLER_PROFILE or the config's default).").tag(
        config=True
    )
    concurrency = Int(8, help="Lookups in flight at once for %%nextcaller and %nextcaller_enrich (1-256).").tag(
        config=True
    )
    cache_ttl = Float(300.0, help="Seconds a found record is reused without asking the API again (0: off).").tag(
        config=True
    )
    return_dataframe = Bool(True, help="%%nextcaller returns a pandas DataFrame (else a list of dicts).").tag(
        config=True
    )
    progress = Union(
        [Unicode(), Bool()],
        default_value="auto",
        help="Batch progress: auto, widget (ipywidgets), text, or none. The bar ends as the summary line.",
    ).tag(config=True)
    display_limit = Int(20, help="Rows shown of a table the magics display (--display, enrich); 0: all.").tag(
        config=True
    )

    @validate("concurrency")
    def _check_concurrency(self, proposal: Any) -> int:
        value = proposal["value"]
        if not 1 <= value <= _args.MAX_CONCURRENCY:
            raise _refuse("concurrency", value, f"use a whole number from 1 to {_args.MAX_CONCURRENCY}")
        return value

    @validate("cache_ttl")
    def _check_cache_ttl(self, proposal: Any) -> float:
        value = proposal["value"]
        if not value >= 0:  # also refuses NaN
            raise _refuse("cache_ttl", value, "use seconds, 0 or more (0 turns the cache off)")
        return value

    @validate("display_limit")
    def _check_display_limit(self, proposal: Any) -> int:
        value = proposal["value"]
        if value < 0:
            raise _refuse("display_limit", value, "use a number of rows, 0 or more (0 shows all)")
        return value

    @validate("progress")
    def _check_progress(self, proposal: Any) -> str:
        value = proposal["value"]
        mode = ("auto" if value else "none") if isinstance(value, bool) else str(value).strip().lower()
        if mode not in PROGRESS_MODES:
            raise _refuse("progress", value, "use one of " + ", ".join(PROGRESS_MODES))
        if mode == "widget" and not have_widgets():
            raise _refuse(
                "progress", value, "the widget needs ipywidgets (pip install ipywidgets); or use auto or text"
            )
        return mode

    @validate("profile")
    def _check_profile(self, proposal: Any) -> str:
        value = proposal["value"].strip()
        if value and not all(c.isalnum() or c in "-_." for c in value):
            raise _refuse("profile", proposal["value"], "a profile name has letters, digits, '-', '_' or '.'")
        return value

    def __init__(self, shell: Any = None, **kwargs: Any):
        super().__init__(shell=shell, **kwargs)
        self._clients: dict[tuple, NextCallerClient] = {}

    def update_config(self, config: Any) -> None:
        """``%config NextCaller.x = v``: a refused value is one line on stderr, the setting kept as it was.

        (IPython's ``%config`` would log whatever is raised here as ``ERROR:root:…``.)
        """
        try:
            super().update_config(config)
        except TraitError as exc:
            print(str(exc), file=sys.stderr)

    # -- plumbing ---------------------------------------------------------------------
    def _client(self, profile: str | None = None) -> NextCallerClient:
        """The client for the settings and credentials in force *now*.

        Clients are kept per everything that identifies them (the settings, the
        key, the secret's keyed hash, where they came from), so new credentials
        (env, keyring, login) take effect on the next magic; one replaced for
        the same profile is closed.
        """
        from ..audit import local_auditor
        from ..client.client import NextCallerClient
        from ..config import load_settings
        from ..credentials import load_credentials

        settings = load_settings(
            profile or self.profile or None, cache_ttl=self.cache_ttl, concurrency=self.concurrency
        )
        credentials = load_credentials(settings.profile)
        key = (settings, credentials.consumer_key, _digest(credentials.consumer_secret), credentials.source)
        client = self._clients.get(key)
        if client is None:
            for stale in [k for k in self._clients if k[0].profile == settings.profile]:
                self._clients.pop(stale).close()
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
        """The one rule (``config.chosen_profile``), %config NextCaller.profile counting as a flag."""
        from ..config import chosen_profile

        return chosen_profile(given or self.profile or None)

    @contextmanager
    def _one_line_errors(self) -> Iterator[None]:
        try:
            yield
        except errors.NextCallerError as exc:
            raise usage_error(exc) from None

    # -- lookups ------------------------------------------------------------------------
    def _expanded(self, text: str, where: str, *, lines: bool = False) -> str:
        """``{variable}`` from the notebook's namespace, safely (:func:`._args.expand`)."""
        return _args.expand(text, self.shell.user_ns if self.shell is not None else {}, where=where, lines=lines)

    @no_var_expand
    @line_cell_magic
    @_args.LOOKUP
    def nextcaller(self, line: str, cell: str | None = None) -> Any:
        """Who is calling? One number (%nextcaller) or a cell of them (%%nextcaller).

        %nextcaller 212-555-8383 shows the caller's card (one per record);
        `r = %nextcaller …` gives r.profiles, r[0].email, r.document, r.found.

        %%nextcaller [-o VAR] takes one number per line (# starts a comment) and
        returns a DataFrame, one row per line in input order: status, records,
        max_fraud_threat, the first record's fields, error. A number asked twice
        is fetched once; a refused key stops at the first line; an interrupt
        keeps the rows done; a summary line follows every batch.
        """
        where = "%nextcaller" if cell is None else "%%nextcaller"
        args = _args.parse(self.nextcaller, self._expanded(line, where))
        if args is None:
            return None
        from .records import lookup_line
        from .tables import lookup_cell

        with self._one_line_errors():
            if cell is None:
                return lookup_line(self, args)
            if args.phone or args.format:
                extra = " ".join(args.phone) or f"--format {args.format}"
                raise UsageError(f"%%nextcaller: {extra!r} is for one number (%nextcaller); the cell holds the numbers")
            return lookup_cell(self, args, self._expanded(cell, "%%nextcaller", lines=True))

    @no_var_expand
    @line_magic
    @_args.ENRICH
    def nextcaller_enrich(self, line: str) -> None:
        """Add the caller's profile beside each row's number in a pandas DataFrame.

        %nextcaller_enrich calls --column phone adds the profile columns to
        `calls` itself, keeping its columns, index and row order; -o VAR leaves it
        as it is and puts an enriched copy in VAR. The same as a function:
        nextcaller_ops.enrich(calls, "phone").
        """
        args = _args.parse(self.nextcaller_enrich, self._expanded(line, "%nextcaller_enrich"))
        if args is None:
            return
        from .tables import enrich_variable

        with self._one_line_errors():
            enrich_variable(self, args)

    # -- corrections ----------------------------------------------------------------------
    @line_magic
    @_args.UPDATE
    def nextcaller_update(self, line: str) -> CorrectionResult | None:
        """Post a correction to a record: only the fields that change are sent.

        Old → new is shown when the record is known (looked up in this kernel a
        moment ago); otherwise the fields are sent as given, and it says so.
        """
        args = _args.parse(self.nextcaller_update, line)
        if args is None:
            return None
        from .records import update

        with self._one_line_errors():
            return update(self, args)

    # -- verifying a caller (issue 26) ----------------------------------------------------------
    @line_magic
    @_verify.VERIFY
    def nextcaller_verify(self, line: str) -> Any:
        """Compare what a caller claims with the number's record: match / partial / no match per field.

        %nextcaller_verify 212-555-8383 --name 'Jerry Seinfeld' --zip 10024 [--email E] [--street S];
        `v = %nextcaller_verify …` gives v.full_match and v.as_dict(). Case and accents never count.
        """
        args = _args.parse(self.nextcaller_verify, line)
        if args is None:
            return None
        with self._one_line_errors():
            return _verify.verify_line(self, args)

    # -- credentials ----------------------------------------------------------------------
    @line_magic
    @_args.LOGIN
    def nextcaller_login(self, line: str) -> None:
        """Store a consumer key and secret in the OS keyring (the secret is asked for, never echoed)."""
        args = _args.parse(self.nextcaller_login, line)
        if args is not None:
            with self._one_line_errors():
                accounts.login(self, args)

    @line_magic
    @_args.PROFILE_ONLY
    def nextcaller_logout(self, line: str) -> None:
        """Remove a profile's key and secret from the OS keyring."""
        args = _args.parse(self.nextcaller_logout, line)
        if args is not None:
            with self._one_line_errors():
                accounts.logout(self, args)

    @line_magic
    @_args.PROFILE_ONLY
    def nextcaller_status(self, line: str) -> None:
        """The profile, base URL, masked key and where it comes from, the keyring, and a live check."""
        args = _args.parse(self.nextcaller_status, line)
        if args is not None:
            with self._one_line_errors():
                accounts.status(self, args)


def _add_family_usage() -> None:
    """``%nextcaller?`` and ``%nextcaller --help`` end with the usage of every magic of the family."""
    lookup = NextCaller.nextcaller
    others = "\n".join(_args.usage_line(getattr(NextCaller, name)) for name in MAGIC_NAMES[1:])
    lookup.__doc__ = (lookup.__doc__ or "") + (
        "\nThe family (each takes --help; %%nextcaller takes the options above):\n"
        "  %%nextcaller [-o VAR] [--display] [--rows {line,record}] [--to FILE [--resume]] [--max-requests N]"
        " [--dry-run] [--concurrency N] [--email | --fraud]   (a {variable} in the cell is the notebook's)\n"
        f"{others}\n"
    )
    # `%nextcaller?` shows the docstring as it is: plain text, not magic_arguments' reST ("::" and an indent)
    for name in MAGIC_NAMES:
        magic = getattr(NextCaller, name)
        magic.__doc__ = _args.help_text(magic)


_add_family_usage()
