"""``nextcaller-ops sandbox``: the local Next Caller server (API v2 with OAuth 1.0a, v2.1 with HTTP Basic)."""

from __future__ import annotations

import argparse
import signal

from ...errors import UsageError
from .. import _common as c


def add_parser(sub: argparse._SubParsersAction) -> None:
    text = "run the local Next Caller sandbox (API v2 with OAuth 1.0a and/or v2.1 with HTTP Basic)"
    p = sub.add_parser("sandbox", help=text, description=text)
    p.set_defaults(run=run)
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
        "--rate-limit-headers",
        choices=("always", "on-429"),
        default="always",
        help="with --rate-limit: X-Rate-Limit-* on every answer (default) or only on 429 refusals",
    )
    p.add_argument(
        "--api-version",
        choices=("v2", "v2.1", "both"),
        default="both",
        help="serve /v2/ (OAuth 1.0a), /v2.1/ (HTTP Basic: the key as username, the secret as password), or both",
    )
    p.add_argument(
        "--list-numbers",
        type=int,
        metavar="N",
        default=None,
        help="print the seeded numbers (the fixed ones, then the first N synthetic ones) and exit",
    )


def run(args: argparse.Namespace) -> int:
    from ...sandbox import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, HOUSEHOLD_PHONE, SEINFELD, Sandbox, synthetic_phone

    if args.list_numbers is not None:
        if not 0 <= args.list_numbers <= args.records:
            raise UsageError(f"--list-numbers must be between 0 and --records ({args.records})")
        fixed = [SEINFELD["phone"][0]["number"], HOUSEHOLD_PHONE]  # the document's record, the household
        c.out("\n".join(fixed + [synthetic_phone(i) for i in range(args.list_numbers)]))
        return c.EXIT_OK
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
        rate_limit_headers=args.rate_limit_headers,
        api_version=args.api_version,
    )
    c.out(f"Next Caller sandbox listening on {sandbox.url} (API {' and '.join(sandbox.api_versions)})")
    c.out(f"  export NEXTCALLER_BASE_URL={sandbox.url}")
    if "v2" in sandbox.api_versions:
        c.out(f"  export NEXTCALLER_CONSUMER_KEY={sandbox.consumer_key}")
        c.out(f"  export NEXTCALLER_CONSUMER_SECRET={sandbox.consumer_secret}")
    if "v2.1" in sandbox.api_versions:
        c.out("  # API v2.1 (HTTP Basic): the same account as username and password")
        c.out("  export NEXTCALLER_API_VERSION=v2.1")
        c.out(f"  export NEXTCALLER_API_USERNAME={sandbox.api_username}")
        c.out(f"  export NEXTCALLER_API_PASSWORD={sandbox.api_password}")
    c.out(f"  database {sandbox.db} ({sandbox.store.count()} records); OpenAPI at {sandbox.url}/openapi.json")
    if args.rate_limit:
        c.out(f"  at most {args.rate_limit:g} requests/s per consumer key; more are answered 429 (code 1061)")
    c.out("Ctrl-C stops it.")
    signal.signal(signal.SIGTERM, _interrupt)  # a stop by a supervisor also says what was refused
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if args.rate_limit:
            counts = sandbox.httpd.rate_counts.values()
            allowed, refused = sum(n["allowed"] for n in counts), sum(n["refused"] for n in counts)
            c.out(f"rate limit: {allowed + refused} requests, {refused} refused (429, code 1061)")
    return c.EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
