"""``nextcaller-ops slack-manifest [--http URL]``: the Slack app manifest the bot was written for.

The manifest ships inside the package (``bot/manifest.yml``, the repository's
top-level ``manifest.yml``), so an installed bot prints the one it expects.  As
shipped it is for Socket Mode; ``--http URL`` turns it into the HTTP-mode
manifest: the slash command's ``url``, interactivity's and the event
subscriptions' ``request_url`` all set to URL, Socket Mode off.

The edits are made on the text, line by line, so PyYAML is not needed at run
time and the comments survive; a manifest whose shape they no longer fit is
refused rather than printed half-edited (a test validates the result against
Slack's schema).
"""

from __future__ import annotations

import argparse
import json
import re
from urllib.parse import urlsplit, urlunsplit

from ...errors import UsageError
from .. import _common as c

__all__ = ["packaged_manifest", "events_url", "http_manifest"]

EVENTS_PATH = "/slack/events"  # the one path the bot serves Slack's commands, actions and events on
MAX_URL = 3000  # the schema's limit for a slash command's url (request_url allows 3500)


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "print the bot's Slack app manifest (--http URL: for HTTP mode)"
    p = sub.add_parser(
        "slack-manifest",
        help=text,
        description="print the Slack app manifest the bot was written for; create the app from it "
        "(api.slack.com/apps → Create New App → From a manifest)",
    )
    p.set_defaults(run=run)
    p.add_argument(
        "--http",
        metavar="URL",
        help=f"for HTTP mode: Slack sends to URL (https://HOST, which means https://HOST{EVENTS_PATH}, "
        "or the full URL); Socket Mode off",
    )


def run(args: argparse.Namespace) -> int:
    text = packaged_manifest()
    if args.http is not None:
        text = http_manifest(text, events_url(args.http))
    c.out(text.rstrip("\n"))
    return c.EXIT_OK


def packaged_manifest() -> str:
    """The manifest as shipped with the package (Socket Mode)."""
    from importlib.resources import files

    return files("bot").joinpath("manifest.yml").read_text(encoding="utf-8")


def events_url(given: str) -> str:
    """``given`` as the URL Slack should send to: https only, ``/slack/events`` when no path is given."""
    text = given.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise UsageError(f"--http {given!r} is not a URL", hint=f"give https://YOUR-HOST{EVENTS_PATH}")
    parts = urlsplit(text)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise UsageError(
            f"--http {text}: Slack sends requests only to an https:// URL with a host",
            hint=f"give https://YOUR-HOST{EVENTS_PATH} (behind TLS: a reverse proxy or a tunnel)",
        )
    if parts.fragment:
        raise UsageError(f"--http {text}: a URL Slack posts to has no #fragment", hint="leave it out")
    path = parts.path if parts.path not in ("", "/") else EVENTS_PATH
    url = urlunsplit(("https", parts.netloc, path, parts.query, ""))
    if len(url) > MAX_URL:
        raise UsageError(f"--http: the URL is {len(url)} characters; Slack takes at most {MAX_URL}")
    return url


_HEADER = (
    "# Slack app manifest for the nextcaller-ops bot, for HTTP mode: Slack sends the slash command,\n"
    "# interactivity and events to {url} (`nextcaller-ops bot --http` behind TLS,\n"
    "# or gunicorn 'bot.wsgi:application'). Create the app from this file (api.slack.com/apps -> \"From a manifest\").\n"
)
_COMMAND = re.compile(r"^(\s*)- command:\s")
_BLOCK = re.compile(r"^(\s*)(interactivity|event_subscriptions):\s*(#.*)?$")
_SOCKET = re.compile(r"^(\s*socket_mode_enabled:\s*)true(\s*(#.*)?)$")
_URL_KEY = re.compile(r"^\s*(-\s+)?(url|request_url):")


def http_manifest(manifest: str, url: str) -> str:
    """``manifest`` (the shipped text) with ``url`` in each place Slack posts to, and Socket Mode off."""
    quoted = json.dumps(url)  # a JSON string is a YAML double-quoted scalar: no character of the URL can break it
    lines = manifest.splitlines()
    body = lines[next((i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")), 0) :]
    if any(_URL_KEY.match(line) for line in body):
        raise _unfit("it already names request URLs")
    out: list[str] = []
    commands = blocks = socket = 0
    for i, line in enumerate(body):
        if (m := _SOCKET.match(line)) is not None:
            out.append(f"{m.group(1)}false{m.group(2)}")
            socket += 1
            continue
        out.append(line)
        if (m := _COMMAND.match(line)) is not None:
            out.append(" " * _child_indent(body, i, len(m.group(1)) + 2) + f"url: {quoted}")
            commands += 1
        elif (m := _BLOCK.match(line)) is not None:
            out.append(" " * _child_indent(body, i, len(m.group(1)) + 2) + f"request_url: {quoted}")
            blocks += 1
    if not commands or blocks != 2 or socket != 1:
        raise _unfit(
            f"found {commands} slash command(s), {blocks} of interactivity and event_subscriptions, "
            f"{socket} socket_mode_enabled: true"
        )
    return _HEADER.format(url=url) + "\n".join(out) + "\n"


def _child_indent(lines: list[str], i: int, default: int) -> int:
    """The indentation of the keys under ``lines[i]``: the next line's, when it is deeper."""
    parent = len(lines[i]) - len(lines[i].lstrip())
    for line in lines[i + 1 :]:
        if line.strip() and not line.lstrip().startswith("#"):
            indent = len(line) - len(line.lstrip())
            return indent if indent > parent else default
    return default


def _unfit(why: str) -> RuntimeError:
    # The shipped manifest changed shape: a packaging bug, not the person's input.
    return RuntimeError(f"the packaged manifest does not have the shape --http edits ({why})")
