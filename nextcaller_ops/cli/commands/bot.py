"""``nextcaller-ops bot``: the Slack bot, in Socket Mode or over HTTP."""

from __future__ import annotations

import argparse

# What the bot imports, all in the [slack] extra: without one, `bot` says which extra to install.
SLACK_MODULES = ("slack_bolt", "slack_sdk", "websockets")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bot", help="run the Slack bot", description="run the Slack bot")
    p.set_defaults(run=run)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--http", action="store_true", help="serve /slack/events over HTTP")
    mode.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN)")
    p.add_argument("--port", type=int, default=3000)
    # Loopback unless asked: this is the development server; production runs gunicorn (README, deploy/).
    p.add_argument("--host", default="127.0.0.1", help="address to bind with --http (default 127.0.0.1)")


def run(args: argparse.Namespace) -> int:
    from ...errors import missing_extra

    missing = missing_extra(SLACK_MODULES, "slack", "the Slack bot")  # before bot.run: it imports slack_bolt
    if missing:
        raise missing
    from bot.run import run_bot

    mode = "socket" if args.socket else ("http" if args.http else None)
    return run_bot(mode=mode, port=args.port, host=args.host)
