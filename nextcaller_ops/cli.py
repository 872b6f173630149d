"""The ``nextcaller-ops`` command.

Exit codes: 0 all found / done · 1 an API error or no record · 2 refused before
any request (bad input, no credentials) · 130 interrupted.  Errors are one
line on stderr with the API's code and a hint; never a traceback (``--debug``
shows one).  Imports are lazy so ``--help`` and ``lookup`` start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import itertools
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import (
    APIError,
    AuthError,
    BadResponseError,
    BillingError,
    CredentialsError,
    ExpiredTrialError,
    NextCallerError,
    UsageError,
)

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
log = logging.getLogger("nextcaller_ops.cli")


# -- helpers ----------------------------------------------------------------------


def _settings(args: argparse.Namespace, **overrides: Any):
    from .config import load_settings

    return load_settings(getattr(args, "profile", None), **overrides)


def _client(args: argparse.Namespace, **overrides: Any):
    from .audit import local_auditor
    from .client import NextCallerClient

    settings = _settings(args, **overrides)
    return NextCallerClient(settings=settings, audit=local_auditor("cli"))


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- lookup -------------------------------------------------------------------------

_PHONE_COLUMNS = ("phone", "phone_number", "number")


def _read_inputs(path: str) -> Iterator[str]:
    """Numbers from a file (or ``-`` for stdin): one per line, or a CSV's ``phone`` column.

    The file is opened and its first line read here, so a missing file or a CSV
    without a phone column is refused before any output or request.
    """
    if path == "-":
        stream: TextIO = sys.stdin
        closing: Any = contextlib.nullcontext(stream)
    else:
        try:
            stream = open(path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}", hint="check the path given to --file") from None
        closing = stream
    first = stream.readline()
    header = [h.strip().lower() for h in next(csv.reader([first]), [])] if first else []
    column: int | None = None
    if len(header) > 1 or (header and header[0] in _PHONE_COLUMNS):
        column = next((i for i, h in enumerate(header) if h in _PHONE_COLUMNS), None)
        if column is None:
            if path != "-":
                stream.close()
            raise UsageError(
                f"{path} looks like a CSV but has no `phone` column",
                hint="name the column `phone`, or give one number per line",
            )
    return _iter_inputs(stream, closing, first, column)


def _iter_inputs(stream: TextIO, closing: Any, first: str, column: int | None) -> Iterator[str]:
    with closing:
        if column is not None:
            for row in csv.reader(stream):
                if row and any(cell.strip() for cell in row):
                    yield row[column] if column < len(row) else ""
            return
        for line in itertools.chain([first], stream):
            text = line.strip()
            if text and not text.startswith("#"):
                yield text


def _count_lines(path: str) -> int | None:
    if path == "-" or not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return sum(1 for _ in fh)


_FATAL = (AuthError, BillingError, ExpiredTrialError)


def _lookup_file(args: argparse.Namespace) -> int:
    from .render import BATCH_COLUMNS, batch_row

    fmt = args.format or "csv"
    if fmt == "xml":
        raise UsageError("--format xml does not fit --file", hint="use csv (default), json or text with --file")
    inputs = _read_inputs(args.file)
    client = _client(args)
    out: TextIO = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    progress = None
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        total = _count_lines(args.file)
        progress = tqdm(total=total, unit="num", file=sys.stderr, desc="lookup", leave=False)
    writer = csv.DictWriter(out, fieldnames=BATCH_COLUMNS, extrasaction="ignore") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    counts: dict[str, int] = {}
    fatal: NextCallerError | None = None
    try:
        with client:
            for item in client.iter_lookup_many(inputs, concurrency=args.concurrency, refresh=args.refresh):
                counts[item.status] = counts.get(item.status, 0) + 1
                row = batch_row(item)
                if writer:
                    writer.writerow(row)
                elif fmt == "json":
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                else:
                    out.write(f"{row['input']}\t{row['status']}\t{row['name'] or row['error']}\n")
                if progress is not None:
                    progress.update(1)
                if isinstance(item.error, _FATAL):
                    fatal = item.error
                    break
            out.flush()
    finally:
        if progress is not None:
            progress.close()
        if args.output:
            out.close()
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
    if not args.quiet:
        _err(f"{sum(counts.values())} rows: {summary or 'no input'}")
    if fatal is not None:
        _err(f"error: {fatal} (stopped: every further row would fail the same way)")
        return EXIT_API
    return EXIT_API if counts.get("error") else EXIT_OK


def cmd_lookup(args: argparse.Namespace) -> int:
    from .phone import parse

    if args.file:
        if args.phones:
            raise UsageError("give numbers or --file, not both")
        return _lookup_file(args)
    if not args.phones:
        raise UsageError("no phone number given", hint="nextcaller-ops lookup 212-555-8383 (or --file PATH)")
    parsed, problems = [], []
    for raw in args.phones:
        try:
            parsed.append(parse(raw))
        except NextCallerError as exc:
            problems.append(str(exc))
    if problems:
        for p in problems:
            _err(f"error: {p}")
        return EXIT_USAGE
    fmt = args.format or "text"
    client = _client(args)
    status = EXIT_OK
    with client:
        if fmt == "csv":
            from .render import BATCH_COLUMNS, batch_row

            writer = csv.DictWriter(sys.stdout, fieldnames=BATCH_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for item in client.iter_lookup_many(
                [p.raw for p in parsed], concurrency=args.concurrency, refresh=args.refresh
            ):
                writer.writerow(batch_row(item))
                if item.status != "found":
                    status = EXIT_API
                    if item.error:
                        _err(f"error: {item.error}")
            return status
        for i, phone in enumerate(parsed):
            if phone.extension:
                _err(f"note: extension x{phone.extension} is not sent to the API")
            if fmt == "xml":
                try:
                    _out(client.lookup_raw(phone, "xml").rstrip())
                except BadResponseError as exc:
                    if getattr(exc, "body", None):  # show what the API sent, and say what is wrong with it
                        _out(exc.body.rstrip())
                    raise
                except APIError as exc:
                    if exc.status == 404:
                        _err(f"No record for {phone.display}.")
                        status = EXIT_API
                        continue
                    raise
                continue
            result = client.lookup(phone, refresh=args.refresh)
            if not result.found:
                status = EXIT_API
            if fmt == "json":
                doc = result.to_api()
                _out(
                    json.dumps(doc, indent=2, ensure_ascii=False)
                    if len(parsed) == 1
                    else json.dumps(doc, ensure_ascii=False)
                )
                if not result.found:
                    _err(f"No record for {phone.display}.")
            else:
                from .render import text_cards

                if i:
                    _out()
                _out(text_cards(result.profiles, phone.number))
    return status


# -- update -------------------------------------------------------------------------


def cmd_update(args: argparse.Namespace) -> int:
    from .client import _check_id
    from .models import build_correction, flatten_correction, parse_assignments

    if not args.set:
        raise UsageError("nothing to change", hint="add --set FIELD=VALUE (e.g. --set first_name=Clark)")
    _check_id(args.profile_id)
    changes = parse_assignments(args.set)
    build_correction(changes)  # refuse bad fields before touching credentials or network
    client = _client(args)
    with client:
        sent = client.update_profile(args.profile_id, changes)
    _out(f"Correction sent for {args.profile_id.strip().lower()}:")
    for name, value in flatten_correction(sent).items():
        _out(f"  {name} = {value!r}")
    return EXIT_OK


# -- credentials --------------------------------------------------------------------


def cmd_login(args: argparse.Namespace) -> int:
    import getpass

    from .client import NextCallerClient
    from .config import load_settings, save_profile_settings
    from .credentials import Credentials, store_credentials
    from .errors import TransportError

    profile = args.profile or os.environ.get("NEXTCALLER_PROFILE") or "default"
    key = args.consumer_key
    if not key:
        if not sys.stdin.isatty():
            raise UsageError("no consumer key given", hint="pass --consumer-key KEY (and --secret-stdin)")
        key = input("Consumer key: ").strip()
    if args.secret_stdin or not sys.stdin.isatty():  # piped in: read it, never echo it
        secret = sys.stdin.readline().strip()
    else:
        secret = getpass.getpass("Consumer secret (not shown): ").strip()
    if not key or not secret:
        raise UsageError("both a consumer key and a secret are needed", hint="run `nextcaller-ops login` again")
    settings = load_settings(profile, env={}, base_url=args.base_url)
    creds = Credentials(key, secret, source="explicit")
    verified = "not checked"
    if not args.no_verify:
        try:
            with NextCallerClient(creds, settings) as client:
                client.check()
            verified = "verified with the API"
        except TransportError as exc:
            verified = f"not verified: {exc.message}"
    store_credentials(profile, key, secret)
    path = save_profile_settings(profile, make_default=args.make_default, base_url=settings.base_url)
    from .credentials import mask

    _out(f"Stored consumer key {mask(key)} for profile {profile!r} in the keyring ({verified}).")
    _out(f"Settings: {path}")
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    from .credentials import delete_credentials

    profile = args.profile or os.environ.get("NEXTCALLER_PROFILE") or "default"
    if delete_credentials(profile):
        _out(f"Removed the consumer key and secret of profile {profile!r} from the keyring.")
    else:
        _out(f"Profile {profile!r} had nothing stored in the keyring.")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from .client import NextCallerClient
    from .credentials import keyring_backend_name, load_credentials, mask

    settings = _settings(args)
    _out(f"profile:   {settings.profile}")
    _out(f"base URL:  {settings.base_url} (API {settings.api_version})")
    _out(f"keyring:   {keyring_backend_name()}")
    try:
        creds = load_credentials(settings.profile)
    except CredentialsError as exc:
        _out(f"key:       none ({exc.message})")
        _err(f"hint: {exc.hint}")
        return EXIT_USAGE
    _out(f"key:       {mask(creds.consumer_key)} (from {creds.source})")
    if args.offline:
        return EXIT_OK
    try:
        with NextCallerClient(creds, settings) as client:
            check = client.check()
    except NextCallerError as exc:
        _out(f"API:       FAILED — {exc}")
        return EXIT_API
    _out(f"API:       ok ({check['latency_ms']} ms)")
    return EXIT_OK


def cmd_cache(args: argparse.Namespace) -> int:
    from .cache import LookupCache
    from .config import data_dir

    settings = _settings(args)
    path = Path(settings.cache_path) if settings.cache_path else data_dir() / "cache.sqlite3"
    if not path.exists():
        _out(f"No persistent cache at {path}.")
        return EXIT_OK
    cache = LookupCache(path=path)
    if args.action == "clear":
        removed = cache.clear()
        _out(f"Cleared {removed} cached lookup(s) from {path}.")
    else:
        _out(f"{path}: {len(cache)} live entries")
    cache.close()
    return EXIT_OK


# -- servers --------------------------------------------------------------------------


def cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, HOUSEHOLD_PHONE, SEINFELD, Sandbox, synthetic_phone

    if args.list_numbers is not None:
        if not 0 <= args.list_numbers <= args.records:
            raise UsageError(f"--list-numbers must be between 0 and --records ({args.records})")
        fixed = [SEINFELD["phone"][0]["number"], HOUSEHOLD_PHONE]  # the document's record, the household
        _out("\n".join(fixed + [synthetic_phone(i) for i in range(args.list_numbers)]))
        return EXIT_OK

    if not 0.0 <= args.fail_rate <= 1.0:
        raise UsageError(f"--fail-rate {args.fail_rate} is not between 0 and 1")
    if args.records < 0:
        raise UsageError("--records must be 0 or more")
    sandbox = Sandbox(
        host=args.host,
        port=args.port,
        db=args.db,
        consumer_key=args.consumer_key or DEMO_CONSUMER_KEY,
        consumer_secret=args.consumer_secret or DEMO_CONSUMER_SECRET,
        records=args.records,
        latency_ms=args.latency_ms,
        fail_rate=args.fail_rate,
        rate_limit=args.rate_limit,
    )
    _out(f"Next Caller sandbox listening on {sandbox.url}")
    _out(f"  export NEXTCALLER_BASE_URL={sandbox.url}")
    _out(f"  export NEXTCALLER_CONSUMER_KEY={sandbox.consumer_key}")
    _out(f"  export NEXTCALLER_CONSUMER_SECRET={sandbox.consumer_secret}")
    _out(f"  database {sandbox.db} ({sandbox.store.count()} records); OpenAPI at {sandbox.url}/openapi.json")
    _out("Ctrl-C stops it.")
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return EXIT_OK


def cmd_bot(args: argparse.Namespace) -> int:
    from bot.run import run_bot

    return run_bot(mode="socket" if args.socket else ("http" if args.http else None), port=args.port, host=args.host)


def cmd_slack_login(args: argparse.Namespace) -> int:
    """Store the bot's Slack secrets in the keyring (env vars still win at run time)."""
    import getpass

    from .credentials import SLACK_PROFILE, mask, set_secret

    prompts = {
        "bot_token": "Bot token (xoxb-…)",
        "signing_secret": "Signing secret",
        "app_token": "App-level token for Socket Mode (xapp-…, empty to skip)",
    }
    names = tuple(prompts.items())
    values: dict[str, str] = {}
    if args.stdin:
        lines = sys.stdin.read().splitlines()
        values = {name: (lines[i].strip() if i < len(lines) else "") for i, (name, _) in enumerate(names)}
    elif not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the secrets", hint="pipe them in, one per line, with --stdin")
    else:
        values = {name: getpass.getpass(f"{prompt}: ").strip() for name, prompt in names}
    if not values.get("bot_token") or not values.get("signing_secret"):
        raise UsageError("a bot token and a signing secret are needed")
    for name, value in values.items():
        if value:
            set_secret(SLACK_PROFILE, name, value)
    _out("Stored in the keyring: " + ", ".join(f"{n} {mask(v)}" for n, v in values.items() if v))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo()


# -- parser ---------------------------------------------------------------------------


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

    def add(name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("lookup", "look up phone numbers", cmd_lookup)
    p.add_argument("phones", nargs="*", metavar="PHONE", help="numbers in any common US format")
    p.add_argument(
        "--format", choices=("text", "json", "xml", "csv"), help="output format (default: text; csv with --file)"
    )
    p.add_argument("--file", metavar="PATH", help="one number per line, or a CSV with a `phone` column ('-' = stdin)")
    p.add_argument("--output", "-o", metavar="PATH", help="with --file: write rows here instead of stdout")
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=None,
        metavar="N",
        help="lookups in flight at once (default from config, 8)",
    )
    p.add_argument("--refresh", action="store_true", help="bypass the cache")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.add_argument("--profile", help="credentials profile")

    p = add("update", "post a correction to a profile (only the fields given change)", cmd_update)
    p.add_argument("profile_id", metavar="PROFILE_ID")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="first_name, last_name, email, phone1-3, shipping_address1.line1 ... (repeatable)",
    )
    p.add_argument("--profile", help="credentials profile")

    p = add("login", "store a consumer key and secret in the OS keyring", cmd_login)
    p.add_argument("--profile", help="profile name (default: default)")
    p.add_argument("--base-url", help="API root for this profile (default https://api.nextcaller.com)")
    p.add_argument("--consumer-key", help="the consumer key (asked for when missing)")
    p.add_argument("--secret-stdin", action="store_true", help="read the secret from stdin instead of prompting")
    p.add_argument("--no-verify", action="store_true", help="store without a live check")
    p.add_argument("--make-default", action="store_true", help="make this the default profile")

    p = add("logout", "remove a profile's key and secret from the keyring", cmd_logout)
    p.add_argument("--profile")

    p = add("status", "profile, base URL, masked key, keyring backend and a live check", cmd_status)
    p.add_argument("--profile")
    p.add_argument("--offline", action="store_true", help="skip the live check")

    p = add("cache", "inspect or clear the persistent lookup cache", cmd_cache)
    p.add_argument("action", choices=("clear", "info"))
    p.add_argument("--profile")

    p = add("sandbox", "run the local Next Caller v2-compatible sandbox", cmd_sandbox)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--db", help="SQLite file (default: a temporary file); corrections persist in it")
    p.add_argument("--consumer-key", help="the key clients must use (default: the documented demo key)")
    p.add_argument("--consumer-secret", help="its secret (default: the documented demo secret)")
    p.add_argument("--records", type=int, default=1000, help="synthetic people to seed (default 1000)")
    p.add_argument("--latency-ms", type=float, default=0, help="added to every API answer")
    p.add_argument("--fail-rate", type=float, default=0.0, help="answer 503 at this rate (0-1)")
    p.add_argument("--rate-limit", type=float, default=0.0, help="requests/s per key before 429 (0 = off)")
    p.add_argument(
        "--list-numbers",
        type=int,
        metavar="N",
        default=None,
        help="print the seeded numbers (the fixed ones, then the first N synthetic ones) and exit",
    )

    p = add("bot", "run the Slack bot", cmd_bot)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_true", help="serve /slack/events over HTTP")
    mode.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN)")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--host", default="0.0.0.0")

    p = add("slack-login", "store the bot's Slack token and signing secret in the OS keyring", cmd_slack_login)
    p.add_argument(
        "--stdin",
        action="store_true",
        help="read bot token, signing secret and (optional) app token from stdin, one per line",
    )

    add("demo", "the whole tour on an embedded sandbox", cmd_demo)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return value


def _setup_logging(verbosity: int) -> None:
    from .redact import install

    level = logging.WARNING if verbosity == 0 else (logging.INFO if verbosity == 1 else logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    install()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except (UsageError, CredentialsError) as exc:
        _err(f"error: {exc}")
        return EXIT_USAGE
    except NextCallerError as exc:
        _err(f"error: {exc}")
        return EXIT_API
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `nextcaller-ops lookup --file x | head`: the reader left; that is fine.
        try:
            sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"))
        except OSError:
            pass
        return EXIT_OK
    except Exception as exc:  # the last line of defence: no traceback reaches a person
        if args.debug:
            raise
        from .redact import redact

        _err(
            f"internal error: {type(exc).__name__}: {redact(str(exc))[:200]} "
            "— please report it; --debug shows the traceback"
        )
        return EXIT_API


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
