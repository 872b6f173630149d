"""``nextcaller-ops demo``: the whole tour on an embedded sandbox, then exit."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "the whole tour on an embedded sandbox"
    p = sub.add_parser("demo", help=text, description=text)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(args.cli_main)  # the tour runs the CLI itself; cli.main hands itself over
