"""Socket Mode, measured: ``python -m bench --only socket`` or ``python -m bench.socket_mode [--compare]``.

``nextcaller-ops bot --socket`` runs as a child process against the Socket Mode stand-in
(bot/standin/socket_server.py, in this process) with the sandbox as the API (another child process).
Measured, as Slack would see it (envelope sent → acknowledgement received):

1. the ack time over N ``/caller`` envelopes sent one after another, and over N sent at once;
2. after ``{"type": "disconnect", "reason": "refresh_requested"}``: the time until the new
   connection says hello, and the ack time of the first envelope on it;
3. after a dropped socket (no close frame): the reconnect time (drop → new connection's hello)
   and the first envelope's ack time.

``--compare`` repeats 2 and 3 in-process for each Socket Mode client a sync Bolt app can use:
ours (bot/socket_mode/connection.py), Bolt's built-in one, and Bolt's ``websocket-client`` one (when that
package is installed); a minimal app that only acks, so only the client differs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .run import KEY, ROOT, SECRET, _numbers, sandbox_process

APP_TOKEN = "xapp-bench-for-the-local-stand-in"
BOT_TOKEN = "bench-bot-token-for-the-local-fake-slack"


def _spread(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p90_ms": round(cuts[89] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def _start_bot(env: dict[str, str], sm: Any, err: Path) -> subprocess.Popen:
    with open(err, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nextcaller_ops", "bot", "--socket"], env=env, cwd=ROOT, stderr=fh, text=True
        )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            sm.wait_connections(1, timeout=0.2)
            return proc
        except TimeoutError:
            continue
    proc.kill()
    raise RuntimeError("the bot did not connect: " + err.read_text())


def _current(sm: Any) -> Any:
    return max(sm.connections("open"), key=lambda lk: lk.id)


def _handovers(sm: Any, slack: Any, rounds: int, *, drop: bool, user: str) -> dict[str, Any]:
    """``rounds`` refreshes (or drops): time to the new connection's hello, then the first ack on it."""
    back, first_acks = [], []
    for r in range(rounds):
        old = _current(sm)
        started = time.monotonic()
        sm.drop(old.id) if drop else sm.disconnect(old.id)
        new = sm.wait_connections(1, newer_than=old.id, timeout=120)[0]
        back.append(new.opened_at - started)
        envelope = sm.command("2125558383", response_url=slack.response_url(f"h{r}"), user_id=user)
        first_acks.append(sm.wait_ack(envelope, timeout=30).latency)
    return {"new_connection": _spread(back), "first_ack": _spread(first_acks)}


def bench_socket(quick: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bot.standin.socket_server import FakeSocketMode
    from bot.standin.web_api import FakeSlack

    n, rounds = (30, 4) if quick else (100, 10)
    numbers = _numbers(n)
    out: dict[str, Any] = {"commands": n, "rounds": rounds}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nc-bench-socket-")))
        api = stack.enter_context(sandbox_process(records=max(200, n)))
        slack = stack.enter_context(FakeSlack())
        sm = stack.enter_context(FakeSocketMode(slack, APP_TOKEN, close_after=30))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            NEXTCALLER_BASE_URL=api,
            NEXTCALLER_CONSUMER_KEY=KEY,
            NEXTCALLER_CONSUMER_SECRET=SECRET,
            NEXTCALLER_OPS_DATA_DIR=str(tmp / "data"),
            NEXTCALLER_OPS_CONFIG_DIR=str(tmp / "config"),
            NEXTCALLER_OPS_LOOKUPS_PER_MINUTE="10000",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_APP_TOKEN=APP_TOKEN,
            SLACK_API_URL=slack.api_url,
        )
        started = time.monotonic()
        bot = _start_bot(env, sm, tmp / "bot.err")
        out["start_to_hello_s"] = round(time.monotonic() - started, 2)
        try:
            # 1. one after another, then all at once
            acks = []
            for i, number in enumerate(numbers):
                envelope = sm.command(number, response_url=slack.response_url(f"s{i}"), user_id=f"U0SEQ{i:05d}")
                acks.append(sm.wait_ack(envelope).latency)
            out["sequential_ack"] = _spread(acks)
            burst = [
                sm.command(number, response_url=slack.response_url(f"b{i}"), user_id=f"U0BURST{i:05d}")
                for i, number in enumerate(numbers)
            ]
            out["burst_ack"] = _spread([sm.wait_ack(e, timeout=30).latency for e in burst])
            slack.wait_for(lambda cs: sum(c["kind"] == "response" for c in cs) >= 2 * n, timeout=60)
            out["cards"] = sum(c["kind"] == "response" for c in slack.calls())
            # 2. and 3.
            out["refresh"] = _handovers(sm, slack, rounds, drop=False, user="U0REFRESH1")
            out["drop"] = _handovers(sm, slack, rounds, drop=True, user="U0DROP0001")
            out["apps_connections_open_calls"] = len(slack.calls("api", "apps.connections.open"))
            out["connections_opened"] = len(sm.connections())
        finally:
            bot.terminate()
            bot.wait(20)
    return out


def compare_clients(rounds: int = 3) -> dict[str, Any]:
    """Refreshes and drops for each Socket Mode client a sync Bolt app can use (in-process)."""
    sys.path.insert(0, str(ROOT))
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.standin.socket_server import FakeSocketMode
    from bot.standin.web_api import FakeSlack

    def handlers() -> dict[str, Any]:
        from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler as Builtin

        from bot.socket_mode.connection import SocketModeHandler as Ours

        found: dict[str, Any] = {
            "ours (bot/socket_mode/connection.py)": lambda app: Ours(app, APP_TOKEN),
            "bolt builtin": lambda app: Builtin(app, APP_TOKEN),
        }
        try:
            from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler as WsClient

            found["bolt websocket-client"] = lambda app: WsClient(app, APP_TOKEN)
        except ImportError:
            pass
        return found

    results: dict[str, Any] = {}
    for name, make in handlers().items():
        with FakeSlack() as slack, FakeSocketMode(slack, APP_TOKEN, close_after=30) as sm:
            app = App(client=WebClient(token=BOT_TOKEN, base_url=slack.api_url), token_verification_enabled=False)
            app.command("/caller")(lambda ack: ack())
            handler = make(app)
            handler.connect()
            sm.wait_connections(1)
            row: dict[str, Any] = {}
            try:
                row["refresh"] = _handovers(sm, slack, rounds, drop=False, user="U0CMP00001")
                row["drop"] = _handovers(sm, slack, max(2, rounds - 1), drop=True, user="U0CMP00002")
            except TimeoutError as exc:
                row["gave_up"] = str(exc)
            row["apps_connections_open_calls"] = len(slack.calls("api", "apps.connections.open"))
            row["closed_with_close_frame"] = sum(lk.closed_by == "bot" for lk in sm.connections())
            row["connections_closed"] = sum(lk.state == "closed" for lk in sm.connections())
            handler.close()
        results[name] = row
        print(name, json.dumps(row), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.socket_mode", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--compare", action="store_true", help="also compare the Socket Mode clients (minutes)")
    args = parser.parse_args(argv)
    results = {"socket": bench_socket(args.quick)}
    print(json.dumps(results["socket"], indent=2), flush=True)
    if args.compare:
        results["clients"] = compare_clients()
    (ROOT / "bench" / "socket-results.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
