"""What every verb shares: exit codes, output, the client, and the CLI's words for errors."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import Action, NextCallerError, describe

if TYPE_CHECKING:
    from ..api.phone import PhoneInput
    from ..client.client import NextCallerClient
    from ..config import Settings

EXIT_OK, EXIT_API, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# What a person at a terminal does about each kind of error.
ADVICE: dict[Action, str] = {
    Action.LOGIN: "run `nextcaller-ops login`, or set NEXTCALLER_CONSUMER_KEY and NEXTCALLER_CONSUMER_SECRET",
    Action.NEW_KEY: "run `nextcaller-ops login` with a new key",
    Action.LOGIN_BASIC: (
        "run `nextcaller-ops login --auth basic`, or set NEXTCALLER_API_USERNAME and NEXTCALLER_API_PASSWORD"
    ),
    Action.USE_V21: (
        "log in with `nextcaller-ops login --api-version v2.1` (HTTP Basic credentials), "
        "or set NEXTCALLER_API_VERSION=v2.1"
    ),
    Action.WAIT: "wait a moment, or lower --concurrency",
    Action.CHECK_URL: "check NEXTCALLER_BASE_URL (`nextcaller-ops status` shows it) and try again",
    Action.CHECK_NETWORK: "check the network and NEXTCALLER_BASE_URL (`nextcaller-ops status` shows it)",
    Action.RAISE_TIMEOUT: "try again, or raise the timeout in config.toml",
    Action.USE_HTTPS: (
        "use an https:// URL (NEXTCALLER_BASE_URL, base_url in config.toml or `nextcaller-ops login --base-url`), "
        "or set NEXTCALLER_ALLOW_INSECURE_HTTP=1 for a lab proxy you trust"
    ),
}


def error_line(exc: NextCallerError) -> str:
    """The one line a person sees for ``exc``: code, what happened, why, what to do."""
    return describe(exc, ADVICE)


def what_to_do(exc: NextCallerError) -> str:
    """The hint and the advice for ``exc``, without the message."""
    return " — ".join(part for part in (exc.hint, ADVICE.get(exc.action, "")) if part)


def parse_phones(texts: Iterable[str]) -> list[PhoneInput] | None:
    """Every number given, normalised; or None after one error line per refused one (nothing is asked)."""
    from ..api.phone import parse
    from ..api.render import own_input_problem
    from ..errors import InvalidPhoneError

    parsed: list[PhoneInput] = []
    refused = False
    for raw in texts:
        try:
            parsed.append(parse(raw))
        except InvalidPhoneError as exc:  # the person's own input: shown as typed, not masked
            err(f"error: {own_input_problem(raw, exc)}")
            refused = True
        except NextCallerError as exc:
            err(f"error: {error_line(exc)}")
            refused = True
    return None if refused else parsed


# In JSON and XML the CLI prints, what a terminal would act on is written as an escape (the
# same document): DEL, C1 controls, the bidi controls, lone surrogates (JSON escapes C0 itself),
# and in XML the C0 controls too (a malformed answer is printed as the API sent it).
_RAW_IN_JSON = re.compile("[\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_RAW_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def json_text(doc: Any, *, indent: int | None = None) -> str:
    """``doc`` as JSON (``ensure_ascii=False``) with nothing in it a terminal acts on: ``\u009b``, not CSI."""
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def xml_text(text: str) -> str:
    """An XML document as received, its control characters as character references (``&#x1b;``)."""
    return _RAW_IN_XML.sub(lambda m: f"&#x{ord(m.group()):x};", text)


def out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout, flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    from ..config import load_settings

    return load_settings(getattr(args, "profile", None), **overrides)


def client(args: argparse.Namespace, **overrides: Any) -> NextCallerClient:
    from ..audit import local_auditor
    from ..client.client import NextCallerClient

    chosen = settings(args, **overrides)
    return NextCallerClient(settings=chosen, audit=local_auditor("cli", chosen.database_url))


def profile_name(args: argparse.Namespace) -> str:
    """The profile a verb acts on: the one rule every surface uses (``config.chosen_profile``)."""
    from ..config import chosen_profile

    return chosen_profile(getattr(args, "profile", None))


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return value
