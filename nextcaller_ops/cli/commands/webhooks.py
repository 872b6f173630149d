"""``nextcaller-ops webhooks test``: the bot's outgoing webhooks, tried now.

It sends a signed ``webhook.ping`` to every ``NEXTCALLER_OPS_WEBHOOK_URL`` at once
(not queued), signed as every webhook is (Standard Webhooks,
``NEXTCALLER_OPS_WEBHOOK_SECRET``), and prints what each receiver answered: a
receiver's verification is checked before the bot sends anything real.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "the bot's outgoing webhooks: `webhooks test` sends a signed ping to each receiver"
    hooks = sub.add_parser("webhooks", help=text, description=text)
    verbs = hooks.add_subparsers(dest="webhooks_verb", metavar="VERB", required=True)
    verbs.add_parser(
        "test", help="send a signed webhook.ping to every NEXTCALLER_OPS_WEBHOOK_URL and print what each answered"
    ).set_defaults(run=test_webhooks)


def test_webhooks(args: argparse.Namespace) -> int:
    from ...errors import UsageError
    from ...webhooks import WebhookSettings, ping
    from .. import _common as c

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
