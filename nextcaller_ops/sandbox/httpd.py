"""The sandbox's HTTP server: its store, its OAuth endpoint, and the knobs tests and benchmarks turn.

The request handler (:mod:`.handler`) reads this state through ``self.server``;
the server is given the handler class, so neither module imports the other's.
"""

from __future__ import annotations

import logging
import math
import random
import sys
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from .auth import Endpoint, Validator
from .store import Store

__all__ = ["SandboxHTTPServer"]

log = logging.getLogger("nextcaller_ops.sandbox")


RATE_LIMIT_HEADER_MODES = ("always", "on-429")  # when --rate-limit states the limit


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[BaseHTTPRequestHandler],
        store: Store,
        *,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        rate_limit: float = 0.0,
        rate_limit_headers: str = "always",
        seed: int | None = None,
        request_timeout: float = 60.0,
        api_versions: tuple[str, ...] = ("v2", "v2.1"),
    ):
        self.store = store
        # Seconds a connection may stay silent (mid-body or idle between keep-alive requests).
        self.request_timeout = request_timeout
        self.api_versions = api_versions  # "v2" (OAuth 1.0a) and/or "v2.1" (HTTP Basic)
        self.validator = Validator(store)
        self.endpoint = Endpoint(self.validator)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.rate_limit = rate_limit  # requests per second per key; 0 = unlimited
        if rate_limit_headers not in RATE_LIMIT_HEADER_MODES:
            raise ValueError(f"rate_limit_headers must be one of {', '.join(RATE_LIMIT_HEADER_MODES)}")
        # "always": X-Rate-Limit-* on every answer; "on-429": only on refusals (the document promises no more)
        self.rate_limit_headers = rate_limit_headers
        self.random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._injected: deque[dict[str, Any]] = deque()
        self._inject_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._window_lock = threading.Lock()
        self.rate_counts: dict[str, dict[str, int]] = {}  # per consumer key: allowed, refused
        self.request_count = 0
        self.received: dict[str, int] = {}
        # method, path, query and nonce of accepted requests (v2.1: auth "basic", the Nc-Account-Id sent)
        self.signed_requests: list[dict[str, Any]] = []
        self._count_lock = threading.Lock()
        super().__init__(address, handler_class)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print the traceback to stderr, past the log redaction; a client
        # that resets its connection is no error of the sandbox's.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("sandbox: a connection ended early (%s)", type(exc).__name__)
        else:
            log.warning("sandbox: a connection ended in an error", exc_info=True)

    # -- knobs for tests and benchmarks --------------------------------------
    def inject(
        self,
        status: int,
        *,
        code: int | None = None,
        count: int = 1,
        retry_after: str | None = None,
        body: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """The next ``count`` signed requests get this answer instead of the real one."""
        with self._inject_lock:
            for _ in range(count):
                self._injected.append(
                    {
                        "status": status,
                        "code": code,
                        "retry_after": retry_after,
                        "body": body,
                        "content_type": content_type,
                    }
                )

    def take_injected(self) -> dict[str, Any] | None:
        with self._inject_lock:
            return self._injected.popleft() if self._injected else None

    def should_fail(self) -> bool:
        if self.fail_rate <= 0:
            return False
        with self._random_lock:
            return self.random.random() < self.fail_rate

    def rate_limit_check(self, key: str) -> tuple[bool, dict[str, str]] | None:
        """With ``--rate-limit R``: whether ``key`` may have this request, and the headers to answer with.

        At most R requests per consumer key in any second (a sliding window: stricter
        than a fixed one, which lets 2R through around its edges).  Every answer carries
        ``X-Rate-Limit-Limit`` / ``-Remaining`` / ``-Reset`` (epoch seconds when a slot
        frees); a refusal (429, code 1061) adds ``Retry-After`` and is counted.  With
        ``rate_limit_headers="on-429"`` an answer within the limit carries none of them:
        the limit is stated only on refusals.  None: off.
        """
        if self.rate_limit <= 0:
            return None
        now = time.monotonic()
        with self._window_lock:
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] > 1.0:
                window.popleft()
            allowed = len(window) < self.rate_limit
            if allowed:
                window.append(now)
            counts = self.rate_counts.setdefault(key, {"allowed": 0, "refused": 0})
            counts["allowed" if allowed else "refused"] += 1
            frees_in = max(0.0, 1.0 - (now - window[0])) if window else 0.0
            remaining = max(0, int(self.rate_limit) - len(window))
        limit = int(self.rate_limit) if float(self.rate_limit).is_integer() else self.rate_limit
        headers = {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": str(math.ceil(time.time() + frees_in)),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(frees_in)))
        elif self.rate_limit_headers == "on-429":
            headers = {}
        return allowed, headers

    @property
    def refused(self) -> int:
        """Requests answered 429 by ``--rate-limit``, every key together."""
        with self._window_lock:
            return sum(c["refused"] for c in self.rate_counts.values())

    def note_received(self, method: str) -> None:
        """Counted on arrival, before --latency-ms: tests can tell a request is in flight."""
        with self._count_lock:
            self.received[method] = self.received.get(method, 0) + 1

    def record(self, method: str, path: str, query: str, nonce: str | None, **extra: Any) -> None:
        with self._count_lock:
            self.request_count += 1
            self.signed_requests.append(
                {"method": method, "path": path, "query": parse_qs(query), "nonce": nonce, **extra}
            )
            if len(self.signed_requests) > 100_000:
                del self.signed_requests[:50_000]
