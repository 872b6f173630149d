"""``login``, ``logout``, ``status``, ``slack-login``: the words for :mod:`nextcaller_ops.account`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ...config import API_VERSIONS, AUTH_KINDS
from ...errors import UsageError
from .. import _common as c
from .._pacing import status_line

if TYPE_CHECKING:
    from ...account import BackendCheck


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "store a consumer key and secret (or, for API v2.1, an API username and password) in the OS keyring"
    p = sub.add_parser("login", help=text, description=text)
    p.set_defaults(run=run_login)
    p.add_argument(
        "--profile",
        help="profile name (default: NEXTCALLER_PROFILE, then the config's default profile, then `default`)",
    )
    p.add_argument("--base-url", help="API root for this profile (default https://api.nextcaller.com)")
    p.add_argument("--api-version", choices=API_VERSIONS, help="the API this profile speaks (default v2)")
    p.add_argument(
        "--auth",
        choices=AUTH_KINDS,
        help="oauth1 (consumer key and secret) or basic (API username and password); "
        "default: the API version's own (v2: oauth1, v2.1: basic)",
    )
    p.add_argument("--account-id", help="platform accounts: the end customer, sent as Nc-Account-Id on every call")
    p.add_argument("--consumer-key", help="the consumer key (asked for when missing)")
    p.add_argument("--username", help="with --auth basic: the API username (asked for when missing)")
    p.add_argument(
        "--secret-stdin", action="store_true", help="read the secret (or password) from stdin instead of prompting"
    )
    p.add_argument("--no-verify", action="store_true", help="store without a live check")
    p.add_argument(
        "--make-default",
        action="store_true",
        help="make this the default profile (lookups without --profile use it); never done unasked",
    )

    text = "remove a profile's key and secret from the keyring"
    p = sub.add_parser("logout", help=text, description=text)
    p.set_defaults(run=run_logout)
    p.add_argument("--profile")

    text = "profile, base URL, masked key, keyring backend and a live check"
    p = sub.add_parser("status", help=text, description=text)
    p.set_defaults(run=run_status)
    p.add_argument("--profile")
    p.add_argument("--offline", action="store_true", help="skip the live check")

    text = "store the bot's Slack token and signing secret in the OS keyring"
    p = sub.add_parser("slack-login", help=text, description=text)
    p.set_defaults(run=run_slack_login)
    p.add_argument(
        "--stdin",
        action="store_true",
        help="read bot token, signing secret and (optional) app token from stdin, one per line",
    )


def run_login(args: argparse.Namespace) -> int:
    import getpass

    from ... import account

    profile = c.profile_name(args)
    # A new API version without --auth takes that version's own scheme, whatever the profile had.
    auth_override = args.auth or ("" if args.api_version else None)
    # --base-url too: an http:// URL to another machine is refused before anyone types a secret.
    settings = c.settings(
        args, base_url=args.base_url, api_version=args.api_version, auth=auth_override, account_id=args.account_id
    )
    basic = settings.auth == "basic"
    key_words, secret_words = ("API username", "API password") if basic else ("Consumer key", "Consumer secret")
    flag = "--username USER" if basic else "--consumer-key KEY"
    key = args.username or args.consumer_key
    if not key:
        if not sys.stdin.isatty():
            raise UsageError(f"no {key_words.lower()} given", hint=f"pass {flag} (and --secret-stdin)")
        key = input(f"{key_words}: ").strip()
    if args.secret_stdin or not sys.stdin.isatty():  # piped in: read it, never echo it
        secret = sys.stdin.readline().strip()
    else:
        secret = getpass.getpass(f"{secret_words} (not shown): ").strip()
    if not key or not secret:
        raise UsageError(
            f"both a {key_words.lower()} and a {secret_words.split()[-1]} are needed",
            hint="run `nextcaller-ops login` again",
        )
    result = account.login(
        profile,
        key,
        secret,
        base_url=args.base_url,
        api_version=settings.api_version,
        auth=settings.auth,
        account_id=args.account_id,
        verify=not args.no_verify,
        make_default=args.make_default,
    )
    verified = "verified with the API" if result.verified else result.note
    what = "API username" if basic else "consumer key"
    c.out(
        f"Stored {what} {result.key} for profile {profile!r} in the keyring "
        f"(API {result.api_version}, {_AUTH_WORDS[result.auth]}; {verified})."
    )
    if said := account.default_words(result, login="nextcaller-ops login"):
        c.out(said)
    c.out(f"Settings: {result.settings_path}")
    return c.EXIT_OK


_AUTH_WORDS = {"oauth1": "OAuth 1.0a", "basic": "HTTP Basic auth"}


def run_logout(args: argparse.Namespace) -> int:
    from ... import account

    profile = c.profile_name(args)
    c.out(account.logout_words(profile, account.logout(profile), login="nextcaller-ops login"))
    return c.EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    from ... import account

    report = account.status(settings=c.settings(args), live=not args.offline)
    settings = report.settings
    c.out(f"profile:   {settings.profile}")
    c.out(f"base URL:  {settings.base_url} (API {settings.api_version}, {_AUTH_WORDS[settings.auth]})")
    if settings.account_id:
        c.out(f"account:   {settings.account_id} (sent as Nc-Account-Id)")
    c.out(f"keyring:   {report.keyring_backend}")
    for backend in report.backends:
        c.out(f"{backend.role + ':':<10} {backend_line(backend)}")
    backends_ok = all(b.ok for b in report.backends)
    label = "username:" if settings.auth == "basic" else "key:     "
    if report.credentials_error is not None:
        c.out(f"{label}  none ({report.credentials_error.message})")
        c.err(f"hint: {c.what_to_do(report.credentials_error)}")
        return c.EXIT_USAGE
    c.out(f"{label}  {report.key} (from {report.key_source})")
    check = report.check
    if check is None:
        c.out(f"pacing:    {status_line(report.pacing, asked=False)}")
        return c.EXIT_OK if backends_ok else c.EXIT_API
    if check.error is not None:
        c.out(f"API:       FAILED — {c.error_line(check.error)}")
        c.out(f"pacing:    {status_line(report.pacing)}")
        return c.EXIT_API
    c.out(f"API:       ok ({check.latency_ms} ms)")
    c.out(f"pacing:    {status_line(report.pacing)}")
    return c.EXIT_OK if backends_ok else c.EXIT_API


_BACKEND_NAMES = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL (NEXTCALLER_OPS_DATABASE_URL)",
    "redis": "Redis (NEXTCALLER_OPS_REDIS_URL)",
    "memory": "in each process's memory",
}


def backend_line(check: BackendCheck) -> str:
    """``PostgreSQL (…) — ok, schema 1, outbox: 0 pending, 2 delivered, 0 rejected`` and the like."""
    d = check.detail
    name = _BACKEND_NAMES.get(check.backend, check.backend)
    if check.backend == "sqlite" and d.get("where"):
        name = f"SQLite in {d['where']}"
    if not check.ok:
        down = (check.error or "").startswith("not reachable")
        what = "lookups go to the API directly" if check.role == "cache" and down else "fix the setting"
        return f"{name} — FAILED: {check.error} ({'the bot cannot start' if check.role == 'stores' else what})"
    parts = []
    if "schema" in d:
        if not d["schema"]:
            parts.append("schema 0 (the bot creates it on start)")
        elif d.get("latest", 0) > d["schema"]:
            parts.append(
                f"schema {d['schema']} of {d['latest']} (behind: the bot upgrades it at start, or `db migrate`)"
            )
        elif d.get("latest", 0) < d["schema"]:  # written by a newer release: nothing here will run against it
            parts.append(f"schema {d['schema']}, newer than this code knows ({d['latest']}): upgrade nextcaller-ops")
        else:
            parts.append(f"schema {d['schema']} (up to date)")
    if d.get("outbox"):
        o = d["outbox"]
        parts.append(f"outbox: {o['pending']} pending, {o['delivered']} delivered, {o['rejected']} rejected")
    if "version" in d:
        parts.append(f"version {d['version']}, {d['latency_ms']} ms, {d['keys']} keys under {d['prefix']}:")
    return f"{name} — ok" + (", " + ", ".join(parts) if parts else "")


def run_slack_login(args: argparse.Namespace) -> int:
    """Store the bot's Slack secrets in the keyring (env vars still win at run time)."""
    import getpass

    from ...credentials import SLACK_PROFILE, set_secret
    from ...redact import mask_secret

    prompts = {
        "bot_token": "Bot token (xoxb-…)",
        "signing_secret": "Signing secret",
        "app_token": "App-level token for Socket Mode (xapp-…, empty to skip)",
    }
    if args.stdin:
        lines = sys.stdin.read().splitlines()
        values = {name: (lines[i].strip() if i < len(lines) else "") for i, name in enumerate(prompts)}
    elif not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the secrets", hint="pipe them in, one per line, with --stdin")
    else:
        values = {name: getpass.getpass(f"{prompt}: ").strip() for name, prompt in prompts.items()}
    if not values.get("bot_token") or not values.get("signing_secret"):
        raise UsageError("a bot token and a signing secret are needed")
    for name, value in values.items():
        if value:
            set_secret(SLACK_PROFILE, name, value)
    c.out("Stored in the keyring: " + ", ".join(f"{n} {mask_secret(v)}" for n, v in values.items() if v))
    return c.EXIT_OK
