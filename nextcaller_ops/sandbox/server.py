"""A local server that speaks the Next Caller API: v2 as its document describes it, and v2.1.

* ``GET /v2/records/?phone=XXXXXXXXXX&format=json|xml`` — the caller's records
* ``POST /v2/users/<id>/?format=json`` — a correction; only the fields sent change (v2 has no GET here:
  like any route the document does not offer, it is answered 405)
* ``/v2.1/...`` — the same data as Next Caller's v2.1 clients expect it: records by
  phone, email, or name and address; users by id (GET, and a correction answering 204);
  fraud levels (:mod:`.v21`)
* ``GET /openapi.json`` — what is implemented here (unsigned)

Every ``/v2`` request must carry OAuth 1.0a HMAC-SHA1 (header auth), verified
with oauthlib's ``SignatureOnlyEndpoint``: unknown key 1046, no key 1048, bad
signature, replayed nonce and a timestamp more than 5 minutes off are refused.
Every ``/v2.1`` request must carry HTTP Basic auth: the same key as the API
username, the same secret as its password.  Errors use the documented body
``{"error": {"message", "type", "code"}}`` (v2.1: the code as a string).
``api_version`` chooses what is served: ``"v2"``, ``"v2.1"`` or ``"both"``.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from .handler import SandboxHandler
from .httpd import SandboxHTTPServer
from .seed import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET
from .store import Store

__all__ = ["Sandbox", "SandboxHTTPServer", "API_VERSION_CHOICES"]  # the server class is re-exported for tests

API_VERSION_CHOICES = {"v2": ("v2",), "v2.1": ("v2.1",), "both": ("v2", "v2.1")}


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
        rate_limit_headers: str = "always",
        seed: int | None = None,
        api_version: str = "both",
    ):
        if api_version not in API_VERSION_CHOICES:
            raise ValueError(f"api_version must be one of {', '.join(API_VERSION_CHOICES)}, not {api_version!r}")
        self.api_versions = API_VERSION_CHOICES[api_version]
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
            (host, port),
            SandboxHandler,
            self.store,
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            rate_limit=rate_limit,
            rate_limit_headers=rate_limit_headers,
            seed=seed,
            api_versions=self.api_versions,
        )
        self._thread: threading.Thread | None = None

    @property
    def api_username(self) -> str:
        """v2.1's HTTP Basic username: the same account as the consumer key."""
        return self.consumer_key

    @property
    def api_password(self) -> str:
        return self.consumer_secret

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
