"""``nextcaller-ops bot``: the Slack bot, in Socket Mode or over HTTP; ``webhooks test``: its outgoing webhooks.

``nextcaller-ops webhooks test`` sends a signed ``webhook.ping`` to every
``NEXTCALLER_OPS_WEBHOOK_URL`` now (not queued), signed as every webhook is
(Standard Webhooks, ``NEXTCALLER_OPS_WEBHOOK_SECRET``), and prints what each
receiver answered: a receiver's verification is checked before the bot sends
anything real.
"""

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

    text = "the bot's outgoing webhooks: `webhooks test` sends a signed ping to each receiver"
    hooks = sub.add_parser("webhooks", help=text, description=text)
    verbs = hooks.add_subparsers(dest="webhooks_verb", metavar="VERB", required=True)
    verbs.add_parser(
        "test", help="send a signed webhook.ping to every NEXTCALLER_OPS_WEBHOOK_URL and print what each answered"
    ).set_defaults(run=test_webhooks)


def run(args: argparse.Namespace) -> int:
    from ...errors import missing_extra

    missing = missing_extra(SLACK_MODULES, "slack", "the Slack bot")  # before bot.run: it imports slack_bolt
    if missing:
        raise missing
    from bot.run import run_bot

    mode = "socket" if args.socket else ("http" if args.http else None)
    return run_bot(mode=mode, port=args.port, host=args.host)


def test_webhooks(args: argparse.Namespace) -> int:
    from ...errors import UsageError
    from ...webhooks import WebhookSettings, ping
    from . import _common as c

    settings = WebhookSettings.from_env()
    if not settings.urls:
        raise UsageError(
            "no webhook receiver: NEXTCALLER_OPS_WEBHOOK_URL is not set",
            hint="set it to the receiver's https:// URL (several: comma-separated) and NEXTCALLER_OPS_WEBHOOK_SECRET",
        )
    failed = 0
    for url, answer in ping(settings):
        shown = url.split("?", 1)[0]  # a query may carry a token: the path says which receiver
        said = answer.text.strip()
        c.out(
            f"{shown}: HTTP {answer.status}{' ' + said if said else ''}"
            if answer.status
            else f"{shown}: not reached ({said})"
        )
        failed += not answer.ok
    return c.EXIT_OK if not failed else c.EXIT_API
