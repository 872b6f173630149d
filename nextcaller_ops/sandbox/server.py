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

import json
import logging
import random
import re
import tempfile
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import errors as oauth_errors

from ..models import CORRECTION_FIELDS, PROFILE_ID_RE, validate_correction_value
from .openapi import openapi_document
from .store import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, Store

log = logging.getLogger("nextcaller_ops.sandbox")

_CONSUMER_KEY_RE = re.compile(r'oauth_consumer_key=(?:"([^"]*)"|([^&,\s]*))')
TIMESTAMP_LIFETIME = 300  # seconds: "a timestamp more than 5 minutes off is refused"

MESSAGES = {
    555: ("The number you have entered is invalid. Please ensure your number contains 10 digits.", "Authentication"),
    405: ("Invalid UID: no profile has this id.", "Request"),
    1046: ("Invalid consumer key.", "Authentication"),
    1047: ("Inactive consumer key and secret.", "Authentication"),
    1048: ("No consumer key in request.", "Authentication"),
    1049: ("Expired consumer key.", "Authentication"),
    8643: ("Billing fail.", "Billing"),
    8644: ("Expired trial.", "Billing"),
    1061: ("Rate limit exceeded.", "RateLimit"),
    1054: ("Validation error.", "Validation"),
}
_STATUS_CODES = {"inactive": 1047, "expired": 1049, "billing_failed": 8643, "trial_expired": 8644}
_HTTP_FOR_CODE = {
    555: 400,
    405: 404,
    1046: 401,
    1047: 401,
    1048: 401,
    1049: 401,
    8643: 402,
    8644: 403,
    1061: 429,
    1054: 400,
}


class _Validator(RequestValidator):
    """oauthlib's hooks, backed by the store: two-legged, no tokens."""

    def __init__(self, store: Store):
        super().__init__()
        self.store = store
        self._nonces: dict[tuple[str, str], float] = {}
        self._nonce_lock = threading.Lock()
        self._last_purge = time.monotonic()

    enforce_ssl = False
    timestamp_lifetime = TIMESTAMP_LIFETIME
    client_key_length = (1, 64)
    nonce_length = (6, 64)
    dummy_client = "dummyclientkey0000000"

    @property
    def safe_characters(self) -> set[str]:
        return set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        found = self.store.consumer(client_key)
        request.consumer_status = found[1] if found else None
        return found is not None

    def get_client_secret(self, client_key: str, request: Any) -> str:
        found = self.store.consumer(client_key)
        return found[0] if found else "dummy-secret-that-never-verifies"

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        now = time.time()
        with self._nonce_lock:
            if time.monotonic() - self._last_purge > 60:
                cutoff = now - 2 * TIMESTAMP_LIFETIME
                self._nonces = {k: t for k, t in self._nonces.items() if t > cutoff}
                self._last_purge = time.monotonic()
            key = (client_key, nonce)
            if key in self._nonces:
                request.replayed = True
                return False
            self._nonces[key] = now
            return True


class _Endpoint(SignatureOnlyEndpoint):
    """SignatureOnlyEndpoint that also says *why* a request failed."""

    def explain(self, uri: str, method: str, body: str | None, headers: dict[str, str]) -> tuple[bool, str, Any]:
        try:
            request = self._create_request(uri, method, body, headers)
            self._check_transport_security(request)
            self._check_mandatory_parameters(request)
        except oauth_errors.OAuth1Error as err:
            return False, (err.description or err.error or "malformed OAuth parameters"), None
        if not self.request_validator.validate_timestamp_and_nonce(
            request.client_key, request.timestamp, request.nonce, request
        ):
            return False, "This nonce was already used: every request needs a fresh nonce.", request
        valid_client = self.request_validator.validate_client_key(request.client_key, request)
        if not valid_client:
            request.client_key = self.request_validator.dummy_client
        valid_signature = self._check_signature(request)
        if not valid_client:
            return False, "unknown-key", request
        if not valid_signature:
            return False, "Invalid signature.", request
        return True, "", request


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
        self.validator = _Validator(store)
        self.endpoint = _Endpoint(self.validator)
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


def _xml_value(name: str, value: Any, indent: str) -> str:
    if isinstance(value, list):
        inner = "".join(
            f"{indent}  <object>\n{_xml_fields(v, indent + '    ')}{indent}  </object>\n"
            if isinstance(v, dict)
            else f"{indent}  <object>{escape(str(v))}</object>\n"
            for v in value
        )
        return f"{indent}<{name}>\n{inner}{indent}</{name}>\n" if value else f"{indent}<{name}/>\n"
    if isinstance(value, dict):
        return f"{indent}<{name}>\n{_xml_fields(value, indent + '  ')}{indent}</{name}>\n"
    text = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
    return f"{indent}<{name}>{escape(text)}</{name}>\n" if text else f"{indent}<{name}/>\n"


def _xml_fields(obj: dict[str, Any], indent: str) -> str:
    return "".join(_xml_value(k, v, indent) for k, v in obj.items())


def to_xml(doc: dict[str, Any]) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n<response>\n' + _xml_fields(doc, "  ") + "</response>\n"


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # delayed ACKs add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "NextCallerSandbox/2"

    def log_message(self, format: str, *args: Any) -> None:
        # Query strings hold phone numbers (PII): log the path only, at DEBUG.
        log.debug("%s %s", self.command, urlsplit(self.path).path)

    # -- plumbing -------------------------------------------------------------
    def _send(self, status: int, body: str, content_type: str, extra: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_doc(self, status: int, doc: dict[str, Any], fmt: str, extra: dict[str, str] | None = None) -> None:
        if fmt == "xml":
            self._send(status, to_xml(doc), "application/xml", extra)
        else:
            self._send(status, json.dumps(doc, indent=4), "application/json", extra)

    def _error(
        self,
        code: int,
        fmt: str,
        *,
        message: str | None = None,
        http: int | None = None,
        details: dict[str, Any] | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        default_message, kind = MESSAGES.get(code, ("Error.", "Request"))
        err: dict[str, Any] = {"message": message or default_message, "type": kind, "code": code}
        if details:
            err["details"] = details
        self._send_doc(http or _HTTP_FOR_CODE.get(code, 400), {"error": err}, fmt, extra)

    def _plain_error(self, http: int, message: str, fmt: str, kind: str = "Request") -> None:
        self._send_doc(http, {"error": {"message": message, "type": kind, "code": http}}, fmt)

    def _read_body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1_000_000:
            raise ValueError("body too large")
        return self.rfile.read(length).decode("utf-8", errors="replace") if length else ""

    # -- dispatch -------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def __getattr__(self, name: str) -> Any:
        # PUT, PATCH, HEAD, TRACE, QUERY...: the API's JSON answer, not http.server's HTML 501.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return lambda: self._dispatch(name[3:])
        raise AttributeError(name)

    def _dispatch(self, method: str) -> None:
        try:
            self._handle(method)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # never a traceback to the client; keep the server up
            log.exception("sandbox: internal error on %s %s", method, urlsplit(self.path).path)
            try:
                self._plain_error(500, "Internal sandbox error.", "json", "Server")
            except OSError:
                pass

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fmt = (query.get("format") or ["json"])[0].lower()
        path = parts.path
        try:
            body = self._read_body()
        except ValueError:
            self._plain_error(413, "Request body too large.", "json")
            return
        if path == "/openapi.json" and method == "GET":
            self._send(200, json.dumps(openapi_document(self._base_url())), "application/json")
            return
        if not path.startswith("/v2/"):
            self._plain_error(404, "Not found: the API lives under /v2/.", "json")
            return
        if fmt not in ("json", "xml"):
            self._plain_error(400, "Unknown format: use format=json or format=xml.", "json")
            return
        self.server.note_received(method)
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000.0)
        consumer = self._authenticate(method, body, fmt)
        if consumer is None:
            return
        injected = self.server.take_injected()
        if injected is not None:
            self._answer_injected(injected, fmt)
            return
        wait = self.server.over_rate_limit(consumer)
        if wait is not None:
            retry = str(max(1, int(wait + 0.999)))
            self._error(
                1061, fmt, extra={"Retry-After": retry, "X-Rate-Limit-Reset": str(int(time.time()) + int(retry))}
            )
            return
        if self.server.should_fail():
            self._plain_error(503, "Service temporarily unavailable.", fmt, "Server")
            return
        segments = [s for s in path.split("/") if s]
        if segments == ["v2", "records"] and method in ("GET", "HEAD"):
            self._get_records(query, fmt)
        elif len(segments) == 3 and segments[:2] == ["v2", "users"] and method in ("GET", "HEAD"):
            self._get_user(segments[2], fmt)
        elif len(segments) == 3 and segments[:2] == ["v2", "users"] and method == "POST":
            self._post_user(segments[2], body, fmt)
        elif segments[:2] in (["v2", "records"], ["v2", "users"]):
            self._send_doc(
                405,
                {"error": {"message": f"Method {method} not allowed here.", "type": "Request", "code": 4050}},
                fmt,
                {"Allow": "GET, POST"},
            )
        else:
            self._plain_error(404, "Not found.", fmt)

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _authenticate(self, method: str, body: str, fmt: str) -> str | None:
        auth = self.headers.get("Authorization") or ""
        key = (
            _CONSUMER_KEY_RE.search(auth) or _CONSUMER_KEY_RE.search(self.path) or _CONSUMER_KEY_RE.search(body or "")
        )  # header, query or form-body signing
        if key is None or not (key.group(1) or key.group(2)):
            self._error(1048, fmt)
            return None
        uri = self._base_url() + self.path
        headers = dict(self.headers.items())
        ok, why, request = self.server.endpoint.explain(uri, method, body or None, headers)
        if not ok:
            if why == "unknown-key":
                self._error(1046, fmt)
            else:
                self._send_doc(
                    401,
                    {"error": {"message": why, "type": "Authentication", "code": 401}},
                    fmt,
                    {"WWW-Authenticate": 'OAuth realm="nextcaller-sandbox"'},
                )
            return None
        status = getattr(request, "consumer_status", "active")
        if status in _STATUS_CODES:
            self._error(_STATUS_CODES[status], fmt)
            return None
        parts = urlsplit(self.path)
        self.server.record(method, parts.path, parts.query, request.nonce)
        return request.client_key

    def _answer_injected(self, spec: dict[str, Any], fmt: str) -> None:
        extra = {"Retry-After": spec["retry_after"]} if spec.get("retry_after") else None
        if spec.get("body") is not None:
            self._send(spec["status"], spec["body"], spec["content_type"], extra)
        elif spec.get("code"):
            self._error(spec["code"], fmt, http=spec["status"], extra=extra)
        else:
            self._send_doc(
                spec["status"],
                {
                    "error": {
                        "message": HTTPStatus(spec["status"]).phrase + ".",
                        "type": "Server",
                        "code": spec["status"],
                    }
                },
                fmt,
                extra,
            )

    # -- endpoints --------------------------------------------------------------
    def _get_records(self, query: dict[str, list[str]], fmt: str) -> None:
        phones = query.get("phone") or [""]
        phone = phones[0]
        if len(phones) != 1 or len(phone) != 10 or not phone.isascii() or not phone.isdigit():
            self._error(555, fmt)
            return
        records = self.server.store.find_by_phone(phone)
        if not records:
            self._send_doc(
                404,
                {"error": {"message": "No records found for this phone number.", "type": "NotFound", "code": 404}},
                fmt,
            )
            return
        self._send_doc(200, {"records": records}, fmt)

    def _get_user(self, record_id: str, fmt: str) -> None:
        record = self.server.store.get(record_id) if PROFILE_ID_RE.match(record_id) else None
        if record is None:
            self._error(405, fmt)
            return
        self._send_doc(200, record, fmt)

    def _post_user(self, record_id: str, body: str, fmt: str) -> None:
        if not PROFILE_ID_RE.match(record_id) or self.server.store.get(record_id) is None:
            self._error(405, fmt)
            return
        try:
            data = json.loads(body or "null")
        except json.JSONDecodeError:
            self._error(1054, fmt, message="The body is not valid JSON.")
            return
        if not isinstance(data, dict) or not data:
            self._error(1054, fmt, message="The body must be a JSON object with at least one field.")
            return
        details = _validate_post(data)
        if details:
            self._error(1054, fmt, details=details)
            return
        key = (self.headers.get("Idempotency-Key") or "").strip()[:200] or None
        self.server.store.update(record_id, data, time.time(), idempotency_key=key)
        self._send_doc(200, {"success": True}, fmt)


def _validate_post(data: dict[str, Any]) -> dict[str, str]:
    details: dict[str, str] = {}
    allowed_groups = {name.split(".")[0] for name in CORRECTION_FIELDS if "." in name}
    for key, value in data.items():
        if key in allowed_groups:
            if not isinstance(value, dict):
                details[key] = "must be an object"
                continue
            for sub, sub_value in value.items():
                name = f"{key}.{sub}"
                if name not in CORRECTION_FIELDS:
                    details[name] = "unknown field"
                elif not isinstance(sub_value, str):
                    details[name] = "must be a string"
                elif problem := validate_correction_value(name, sub_value):
                    details[name] = problem
        elif key not in CORRECTION_FIELDS:
            details[key] = "unknown field"
        elif not isinstance(value, str):
            details[key] = "must be a string"
        elif problem := validate_correction_value(key, value):
            details[key] = problem
    return details


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
