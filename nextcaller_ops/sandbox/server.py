"""A local server that speaks the Next Caller v2 API as its document describes it.

* ``GET /v2/records/?phone=XXXXXXXXXX&format=json|xml`` — the caller's records
* ``GET /v2/users/<id>/?format=json|xml`` — one record by id
* ``POST /v2/users/<id>/?format=json`` — a correction; only the fields sent change
* ``GET /openapi.json`` — what is implemented here (unsigned)

Every ``/v2`` request must carry OAuth 1.0a HMAC-SHA1 (header auth), verified
with oauthlib's ``SignatureOnlyEndpoint``: unknown key 1046, no key 1048, bad
signature, replayed nonce and a timestamp more than 5 minutes off are refused.
Errors use the documented body ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections import deque
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .auth import Endpoint, Validator
from .handler import SandboxHandler
from .seed import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET
from .store import Store

__all__ = ["Sandbox", "SandboxHTTPServer"]


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        store: Store,
        *,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        rate_limit: float = 0.0,
        seed: int | None = None,
    ):
        self.store = store
        self.validator = Validator(store)
        self.endpoint = Endpoint(self.validator)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.rate_limit = rate_limit  # requests per second per key; 0 = unlimited
        self.random = random.Random(seed)
        self._random_lock = threading.Lock()
        self._injected: deque[dict[str, Any]] = deque()
        self._inject_lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._window_lock = threading.Lock()
        self.request_count = 0
        self.received: dict[str, int] = {}
        self.signed_requests: list[dict[str, Any]] = []  # (method, path, nonce) of accepted requests
        self._count_lock = threading.Lock()
        super().__init__(address, SandboxHandler)

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

    def over_rate_limit(self, key: str) -> float | None:
        if self.rate_limit <= 0:
            return None
        now = time.monotonic()
        with self._window_lock:
            window = self._windows.setdefault(key, deque())
            while window and now - window[0] > 1.0:
                window.popleft()
            if len(window) >= self.rate_limit:
                return max(0.0, 1.0 - (now - window[0]))
            window.append(now)
        return None

    def note_received(self, method: str) -> None:
        """Counted on arrival, before --latency-ms: tests can tell a request is in flight."""
        with self._count_lock:
            self.received[method] = self.received.get(method, 0) + 1

    def record(self, method: str, path: str, query: str, nonce: str) -> None:
        with self._count_lock:
            self.request_count += 1
            self.signed_requests.append({"method": method, "path": path, "query": parse_qs(query), "nonce": nonce})
            if len(self.signed_requests) > 100_000:
                del self.signed_requests[:50_000]


class Sandbox:
    """A running sandbox: ``with Sandbox() as sb: sb.url, sb.consumer_key ...``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path | None = None,
        consumer_key: str = DEMO_CONSUMER_KEY,
        consumer_secret: str = DEMO_CONSUMER_SECRET,
        records: int = 1000,
        latency_ms: float = 0,
        fail_rate: float = 0.0,
        rate_limit: float = 0.0,
        seed: int | None = None,
    ):
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        if db is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="nextcaller-sandbox-")
            db = Path(self._tmpdir.name) / "sandbox.sqlite3"
        self.db = Path(db)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.store = Store(self.db)
        self.store.seed(records, consumer_key, consumer_secret)
        self.records = records
        self.httpd = SandboxHTTPServer(
            (host, port), self.store, latency_ms=latency_ms, fail_rate=fail_rate, rate_limit=rate_limit, seed=seed
        )
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="nextcaller-sandbox", kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # test/benchmark knobs
    def inject(self, status: int, **kw: Any) -> None:
        self.httpd.inject(status, **kw)

    @property
    def latency_ms(self) -> float:
        return self.httpd.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self.httpd.latency_ms = value

    @property
    def fail_rate(self) -> float:
        return self.httpd.fail_rate

    @fail_rate.setter
    def fail_rate(self, value: float) -> None:
        self.httpd.fail_rate = value
