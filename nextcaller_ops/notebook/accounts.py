"""``%nextcaller_login``, ``%nextcaller_logout``, ``%nextcaller_status``: the core's account flow, in a kernel's words."""

from __future__ import annotations

import argparse
import getpass
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from .. import account, errors
from ..config import load_settings
from ._context import Magics
from .words import error_line

if TYPE_CHECKING:
    from ..client.client import NextCallerClient

__all__ = ["login", "logout", "status"]


def login(magics: Magics, args: argparse.Namespace) -> None:
    profile = magics._profile_name(args.profile)
    # A v2.1 profile (HTTP Basic) is asked for its API username and password.
    basic = load_settings(profile).auth == "basic"
    key_words, secret_words = ("API username", "API password") if basic else ("Consumer key", "Consumer secret")
    try:
        key = args.consumer_key or input(f"{key_words}: ").strip()
        secret = getpass.getpass(f"{secret_words}: ").strip()
    except Exception as exc:  # e.g. a kernel that does not allow stdin
        raise UsageError(
            f"cannot ask for the secret here ({type(exc).__name__}); run `nextcaller-ops login` in a terminal instead"
        ) from None
    result = account.login(
        profile,
        key,
        secret,
        base_url=args.base_url,
        verify=not args.no_verify,
        require_verified=True,
        make_default=args.make_default,
    )
    magics._forget_clients()
    checked = f"verified with {result.base_url}" if result.verified else "not verified: --no-verify"
    said = f"Stored {key_words.lower()} {result.key} for profile {profile!r} ({checked})."
    more = account.default_words(result, login="%nextcaller_login")
    print(f"{said} {more}" if more else said)


def logout(magics: Magics, args: argparse.Namespace) -> None:
    profile = magics._profile_name(args.profile)
    removed = account.logout(profile)
    magics._forget_clients()
    print(account.logout_words(profile, removed, login="%nextcaller_login"))


def status(magics: Magics, args: argparse.Namespace) -> None:
    settings = load_settings(args.profile or magics.profile or None)
    problem: errors.NextCallerError | None = None
    client: NextCallerClient | None
    try:
        client = magics._client(args.profile)
    except errors.NextCallerError as exc:
        client, problem = None, exc
    report = account.status(settings=settings, client=client)
    lines = [
        f"profile:  {settings.profile}",
        f"base URL: {settings.base_url}",
        f"keyring:  {report.keyring_backend}",
    ]
    if client is None and problem is not None:
        lines.append(f"API:      not usable — {error_line(problem)}")
    else:
        lines.append(f"key:      {report.key} (from {report.key_source})")
        check = report.check
        if check is not None and check.error is None and client is not None:
            lines.append(f"API:      ok ({check.latency_ms} ms); cache holds {len(client.cache)} lookup(s)")
        elif check is not None and check.error is not None:
            lines.append(f"API:      not usable — {error_line(check.error)}")
    print("\n".join(lines))
