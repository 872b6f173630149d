"""OAuth 1.0a verification for the sandbox: oauthlib's endpoint, backed by the sandbox's store.

Two-legged (no tokens): the consumer key and secret sign every request.  A
replayed nonce or a timestamp more than 5 minutes off is refused, and
:meth:`Endpoint.explain` says *why* a request failed, which oauthlib alone does not.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import errors as oauth_errors

from .store import Store

__all__ = ["Validator", "Endpoint", "CONSUMER_KEY_RE", "TIMESTAMP_LIFETIME"]

CONSUMER_KEY_RE = re.compile(r'oauth_consumer_key=(?:"([^"]*)"|([^&,\s]*))')
TIMESTAMP_LIFETIME = 300  # seconds: "a timestamp more than 5 minutes off is refused"


class Validator(RequestValidator):
    """oauthlib's hooks, backed by the store: two-legged, no tokens."""

    def __init__(self, store: Store):
        super().__init__()
        self.store = store
        self._nonces: dict[tuple[str, str], float] = {}
        self._nonce_lock = threading.Lock()
        self._last_purge = time.monotonic()

    enforce_ssl = False
    # The API documents HMAC-SHA1 only; RSA-SHA1 would reach a hook this validator lacks (a 500).
    allowed_signature_methods = ("HMAC-SHA1",)
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


class Endpoint(SignatureOnlyEndpoint):
    """SignatureOnlyEndpoint that also says *why* a request failed."""

    def explain(self, uri: str, method: str, body: str | None, headers: dict[str, str]) -> tuple[bool, str, Any]:
        try:
            request = self._create_request(uri, method, body, headers)
            self._check_transport_security(request)
            self._check_mandatory_parameters(request)
        except oauth_errors.OAuth1Error as err:
            return False, (err.description or err.error or "malformed OAuth parameters"), None
        except ValueError:  # oauthlib's "Malformed authorization header": a 401, not a 500
            return False, "Malformed OAuth header.", None
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
