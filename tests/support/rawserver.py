"""A raw socket HTTP server that misbehaves on purpose, for faults the sandbox cannot produce."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable

from .common import PATIENCE

Behaviour = Callable[[socket.socket, bytes], None]


def reply(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> Behaviour:
    def act(conn: socket.socket, request: bytes) -> None:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{extra}\r\n"
        ).encode()
        conn.sendall(head + body)

    return act


def drop_mid_body(conn: socket.socket, request: bytes) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n"
        b'Connection: close\r\n\r\n{"records": [{"id": "97d9'
    )


def hang(seconds: float) -> Behaviour:
    def act(conn: socket.socket, request: bytes) -> None:
        time.sleep(seconds)

    return act


def close_at_once(conn: socket.socket, request: bytes) -> None:
    pass


class RawServer:
    """Answers the n-th request with ``script[n]`` (the last one repeats); records each request."""

    def __init__(self, script: list[Behaviour]):
        self.script = script
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def nonces(self) -> list[str]:
        return [m.group(1).decode() for r in self.requests if (m := re.search(rb'oauth_nonce="([^"]+)"', r))]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(PATIENCE)  # the client under test sends at once; a loaded machine may delay it
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            index = len(self.requests)
            self.requests.append(data)
            behaviour = self.script[min(index, len(self.script) - 1)]
            try:
                behaviour(conn, data)
            except OSError:
                pass

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.sock.close()
