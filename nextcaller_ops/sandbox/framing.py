"""HTTP framing for the sandbox's handler: timeouts, body lengths, http.server's own refusals.

The sandbox is the demo's server and the tests' backend, so a careless or
hostile client must get a clean answer and never hold a thread forever:

* a request line over 64 KB, a malformed one or bad headers: the API's JSON
  error shape (414/400/431), never a traceback, and the connection is closed;
* ``Content-Length`` that is not one whole number: 400; over 1 MB: 413;
* a body shorter than its ``Content-Length``: 408 after ``request_timeout``
  (the same timeout closes a keep-alive connection left idle);
* ``Transfer-Encoding`` (chunked): 411 and the connection is closed, so the
  unread body can never be taken for the next request.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FramingMixin", "Refused", "MAX_BODY"]

log = logging.getLogger("nextcaller_ops.sandbox")

MAX_BODY = 1_000_000


class Refused(Exception):
    """A request answered with ``http`` after which the connection is closed."""

    def __init__(self, http: int, message: str):
        super().__init__(message)
        self.http, self.message = http, message


class FramingMixin(BaseHTTPRequestHandler):
    def setup(self) -> None:
        # A client that stops sending (mid-body, or idle between keep-alive requests)
        # frees its thread after this many seconds.
        super().setup()
        self.connection.settimeout(getattr(self.server, "request_timeout", 60.0))

    def log_message(self, format: str, *args: Any) -> None:
        # Query strings hold phone numbers (PII): the path only, at DEBUG.  Also called for
        # requests that never parsed (a request line over 64 KB): nothing may be assumed set.
        path = getattr(self, "path", "") or ""
        log.debug("%s %s", getattr(self, "command", None) or "-", urlsplit(path).path if path else "-")

    def log_error(self, format: str, *args: Any) -> None:
        log.info("sandbox: " + format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals: the API's error shape, then the connection is closed."""
        if getattr(self, "request_version", "") == "HTTP/0.9":
            self.request_version = self.protocol_version  # a malformed line still gets a status line
        # Not http.server's message: it quotes the raw request line.
        self.log_error("refused a request: HTTP %d", code)
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self.refuse(code, f"{phrase}.")

    def refuse(self, http: int, message: str, fmt: str = "json") -> None:
        """Answer ``http`` and close: what follows on the connection cannot be trusted to frame a request."""
        self.close_connection = True
        self._plain_error(http, message, fmt)

    def _plain_error(self, http: int, message: str, fmt: str, kind: str = "Request") -> None:
        raise NotImplementedError  # the handler's: the error document in the asked format

    def read_body(self) -> str:
        """The body, read whole; :class:`Refused` when it cannot be framed or does not arrive in time."""
        if self.headers.get("Transfer-Encoding"):
            raise Refused(411, "Send the body with a Content-Length (no Transfer-Encoding).")
        lengths = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not lengths:
            return ""
        if len(lengths) > 1 or not all(v.isascii() and v.isdigit() for v in lengths):
            raise Refused(400, "Content-Length must be one whole number of bytes.")
        length = int(lengths.pop())
        if length > MAX_BODY:
            raise Refused(413, "Request body too large.")
        try:
            data = self.rfile.read(length) if length else b""
        except TimeoutError:
            data = b""
        if len(data) < length:
            raise Refused(408, "The request body did not arrive in time.")
        return data.decode("utf-8", errors="replace")
