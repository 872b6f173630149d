"""The sandbox's request handler: routing, authentication, knobs, and the v2 endpoints (v2.1's: :mod:`.v21`)."""

from __future__ import annotations

import json
import logging
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..api.models import PROFILE_ID_RE
from ..api.text import first_problem
from . import v21
from .auth import CONSUMER_KEY_RE
from .documents import HTTP_FOR_CODE, MESSAGES, STATUS_CODES, to_xml, validate_post
from .framing import FramingMixin, Refused
from .openapi import openapi_document

if TYPE_CHECKING:
    from .httpd import SandboxHTTPServer

__all__ = ["SandboxHandler"]

log = logging.getLogger("nextcaller_ops.sandbox")


class SandboxHandler(FramingMixin, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle plus
    # delayed ACKs add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "NextCallerSandbox/2"
    api_version = "v2"  # of the request being answered: "v2" or "v2.1" (v2.1 writes its errors its own way)
    rate_headers: dict[str, str] | None = None  # X-Rate-Limit-* of the request being answered

    # -- plumbing -------------------------------------------------------------
    def _send(self, status: int, body: str, content_type: str, extra: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8", "replace")  # never a 500 for a lone surrogate stored earlier
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in {**(self.rate_headers or {}), **(extra or {})}.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
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
        if self.api_version == "v2.1":
            v21.send_error(self, code, fmt, message=message, http=http, details=details, extra=extra)
            return
        default_message, kind = MESSAGES.get(code, ("Error.", "Request"))
        err: dict[str, Any] = {"message": message or default_message, "type": kind, "code": code}
        if details:
            err["details"] = details
        self._send_doc(http or HTTP_FOR_CODE.get(code, 400), {"error": err}, fmt, extra)

    def _plain_error(self, http: int, message: str, fmt: str, kind: str = "Request") -> None:
        if self.api_version == "v2.1":
            v21.send_error(self, http, fmt, message=message, http=http)
            return
        self._send_doc(http, {"error": {"message": message, "type": kind, "code": http}}, fmt)

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
        self.rate_headers = None  # one handler answers every request on a keep-alive connection
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fmt = (query.get("format") or ["json"])[0].lower()
        path = parts.path
        # Set first: every answer to this request, errors included, is written the way its version writes them.
        self.api_version = "v2.1" if path.startswith("/v2.1/") else "v2"
        try:
            body = self.read_body()
        except Refused as refused:
            self.refuse(refused.http, refused.message, fmt if fmt in ("json", "xml") else "json")
            return
        if path == "/openapi.json" and method == "GET":
            self._send(
                200, json.dumps(openapi_document(self._base_url(), self.server.api_versions)), "application/json"
            )
            return
        version = self.api_version if path.startswith(("/v2/", "/v2.1/")) else None
        served = self.server.api_versions
        if version is None or version not in served:
            self._plain_error(
                404, "Not found: the API lives under " + " and ".join(f"/{v}/" for v in served) + ".", "json"
            )
            return
        if fmt not in ("json", "xml"):
            self._plain_error(400, "Unknown format: use format=json or format=xml.", "json")
            return
        self.server.note_received(method)
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000.0)
        if version == "v2.1":
            consumer = v21.authenticate(self, method, fmt)  # HTTP Basic
        else:
            consumer = self._authenticate(method, body, fmt)  # OAuth 1.0a
        if consumer is None:
            return
        injected = self.server.take_injected()
        if injected is not None:
            self._answer_injected(injected, fmt)
            return
        limited = self.server.rate_limit_check(consumer)
        if limited is not None:
            within, self.rate_headers = limited  # on every answer to this request from here on
            if not within:
                self._error(1061, fmt)
                return
        if self.server.should_fail():
            self._plain_error(503, "Service temporarily unavailable.", fmt, "Server")
            return
        segments = [s for s in path.split("/") if s]
        if version == "v2.1":
            v21.route(self, method, segments[1:], query, body, fmt)
            return
        if segments == ["v2", "records"] and method in ("GET", "HEAD"):
            self._get_records(query, fmt)
        elif len(segments) == 3 and segments[:2] == ["v2", "users"] and method == "POST":
            self._post_user(segments[2], body, fmt)
        elif segments[:2] in (["v2", "records"], ["v2", "users"]):
            # v2 documents GET for records and only POST for a user: reading a profile by id is not
            # part of it, so a GET there is answered as any route the document does not offer.
            allowed = "GET, HEAD" if segments[1] == "records" else "POST"
            self._send_doc(
                405,
                {"error": {"message": f"Method {method} not allowed here.", "type": "Request", "code": 4050}},
                fmt,
                {"Allow": allowed},
            )
        else:
            self._plain_error(404, "Not found.", fmt)

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _authenticate(self, method: str, body: str, fmt: str) -> str | None:
        auth = self.headers.get("Authorization") or ""
        key = (
            CONSUMER_KEY_RE.search(auth) or CONSUMER_KEY_RE.search(self.path) or CONSUMER_KEY_RE.search(body or "")
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
        if status in STATUS_CODES:
            self._error(STATUS_CODES[status], fmt)
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
        elif self.api_version == "v2.1":
            v21.send_error(self, spec["status"], fmt, http=spec["status"], extra=extra)
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

    def _post_user(self, record_id: str, body: str, fmt: str) -> None:
        if not PROFILE_ID_RE.match(record_id) or self.server.store.get(record_id) is None:
            self._error(405, fmt)
            return
        try:
            data = json.loads(body or "null")
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
            self._error(1054, fmt, message="The body is not valid JSON.")
            return
        if not isinstance(data, dict) or not data:
            self._error(1054, fmt, message="The body must be a JSON object with at least one field.")
            return
        bad = first_problem(data)
        if bad is not None:  # stored, "\ud800" would make the record unwritable as XML
            where, why = bad
            self._error(1054, fmt, details={where: why})
            return
        details = validate_post(data)
        if details:
            self._error(1054, fmt, details=details)
            return
        key = (self.headers.get("Idempotency-Key") or "").strip()[:200] or None
        self.server.store.update(record_id, data, time.time(), idempotency_key=key)
        self._send_doc(200, {"success": True}, fmt)
