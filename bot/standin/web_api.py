"""A local stand-in for Slack's side of the conversation, for the demo and the tests.

Slack's servers cannot run here, so this plays them: a Web API (point the bot
at it with ``SLACK_API_URL``) that records every call, ``response_url``
endpoints that record what the bot responds, and :func:`send_signed`, which
delivers a payload to the bot signed the way Slack signs it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

__all__ = ["FakeSlack"]


# How long a wait here (a test's, the demo's) gives the bot by default: generous, so that a loaded
# machine is not taken for a broken bot; only a wait that is failing anyway lasts this long.
PATIENCE = 60.0

BOT_USER_ID = "U0BOT00001"  # who auth.test says the bot is
BOT_ID = "B0BOT00001"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # delayed ACKs add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            args = json.loads(raw or "{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw).items()}
            for key in ("blocks", "view", "metadata", "outputs"):
                if isinstance(args.get(key), str):
                    try:
                        args[key] = json.loads(args[key])
                    except ValueError:
                        pass
        self._answer(args)

    def do_GET(self) -> None:
        """The read methods slack_sdk sends as GET (``conversations.replies``): arguments in the query."""
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        self._answer({k: v[0] for k, v in parse_qs(query).items()})

    def _answer(self, args: dict[str, Any]) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            auth = self.headers.get("Authorization", "")
            reply = self.server.fake.record("api", method, args, auth)
            if method in self.server.fake.methods and reply.get("ok"):  # not when told to fail
                reply = self.server.fake.methods[method](args, auth)
        elif path.startswith("/response/"):
            reply = self.server.fake.record("response", path[len("/response/") :], args, "")
        else:
            reply = {"ok": False, "error": "unknown_path"}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSlack


class FakeSlack:
    """``with FakeSlack() as slack: slack.api_url, slack.response_url("x"), slack.calls()``."""

    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self._calls: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        # method -> handler(args, authorization header) -> reply; e.g. bot.fakesocket's apps.connections.open
        self.methods: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {}
        self.fail_methods: dict[str, str] = {}  # method -> Slack error to answer with
        self._ts_lock = threading.Lock()
        self._last_ts = 0.0

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def record(self, kind: str, name: str, args: dict[str, Any], auth: str) -> dict[str, Any]:
        call = {"kind": kind, "name": name, "args": args, "auth": auth, "at": time.monotonic()}
        reply = self._reply(kind, name, args)
        if reply.get("ok") and "ts" in reply:
            call["ts"] = reply["ts"]  # what a posted message is known by, for chat.update to name it
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
        return reply

    def _reply(self, kind: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if name in self.fail_methods:
            return {"ok": False, "error": self.fail_methods[name]}
        if kind == "response":
            return {"ok": True}
        if name == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "nextcaller",
                "team_id": "T0000000001",
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if name == "views.open":
            return {"ok": True, "view": {"id": "V0MODAL0001", **(args.get("view") or {})}}
        if name in ("chat.postMessage", "chat.postEphemeral"):
            ts = self.new_ts()
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts, **args}}
        if name == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}
        if name == "chat.delete":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
        if name in ("functions.completeSuccess", "functions.completeError"):
            return self._complete(name, args)
        if name == "conversations.replies":
            return {"ok": True, "messages": self.thread(args), "has_more": False}
        return {"ok": True}

    def _complete(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """A workflow step's end: its execution id, and its outputs (an object) or its error (a sentence)."""
        if not args.get("function_execution_id"):
            return {"ok": False, "error": "invalid_arguments"}
        if name == "functions.completeSuccess" and not isinstance(args.get("outputs"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        if name == "functions.completeError" and not str(args.get("error") or "").strip():
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def thread(self, args: dict[str, Any]) -> list[dict[str, Any]]:
        """``conversations.replies``: the bot's messages in the thread ``args["ts"]``, as they stand now.

        Only what the bot posted is known here (the messages people post reach the bot as events);
        each as last updated, deleted ones left out; ``metadata`` only with ``include_all_metadata``,
        as Slack does.
        """
        channel, thread_ts = args.get("channel"), str(args.get("ts") or "")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        posted: dict[str, dict[str, Any]] = {}
        with self._cond:
            calls = list(self._calls)
        for call in calls:
            a = call["args"]
            if call["kind"] != "api" or a.get("channel") != channel:
                continue
            if call["name"] == "chat.postMessage" and call.get("ts"):
                if call["ts"] == thread_ts or a.get("thread_ts") == thread_ts:
                    message = {
                        "type": "message",
                        "ts": call["ts"],
                        "thread_ts": a.get("thread_ts") or call["ts"],
                        "user": BOT_USER_ID,
                        "bot_id": BOT_ID,
                        "text": a.get("text", ""),
                        "blocks": a.get("blocks") or [],
                    }
                    if with_metadata and a.get("metadata"):
                        message["metadata"] = a["metadata"]
                    posted[call["ts"]] = message
            elif call["name"] == "chat.update" and a.get("ts") in posted:
                posted[a["ts"]].update(text=a.get("text", ""), blocks=a.get("blocks") or [])
            elif call["name"] == "chat.delete":
                posted.pop(str(a.get("ts")), None)
        return sorted(posted.values(), key=lambda m: float(m["ts"]))

    def new_ts(self) -> str:
        """A message timestamp as Slack makes them ("1700000000.000100"): unique and increasing."""
        with self._ts_lock:
            self._last_ts = max(time.time(), self._last_ts + 0.000001)
            return f"{self._last_ts:.6f}"

    def calls(self, kind: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [
                c for c in self._calls if (kind is None or c["kind"] == kind) and (name is None or c["name"] == name)
            ]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = PATIENCE
    ) -> list[dict[str, Any]]:
        """Block until ``predicate(all calls)`` holds; returns the calls (raises TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(list(self._calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"Slack did not see the expected calls; saw {[c['name'] for c in self._calls]}")
                self._cond.wait(left)
            return list(self._calls)

    def start(self) -> FakeSlack:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
