"""How a request proves who sends it: OAuth 1.0a (API v2) or HTTP Basic (API v2.1).

Each is a ``requests.auth.AuthBase`` the transport hands to every attempt.
"""

from __future__ import annotations

import base64

import requests
from requests.auth import AuthBase
from requests_oauthlib import OAuth1

from ..credentials import Credentials

__all__ = ["oauth1_auth", "basic_auth", "auth_for", "BasicAuth"]


def oauth1_auth(credentials: Credentials) -> AuthBase:
    """OAuth 1.0a, HMAC-SHA1 in the ``Authorization`` header: API v2's scheme.

    requests applies it inside every ``Session.request``, so each attempt gets
    a new nonce and timestamp.
    """
    return OAuth1(
        credentials.consumer_key,
        credentials.consumer_secret,
        signature_method="HMAC-SHA1",
        signature_type="AUTH_HEADER",
    )


class BasicAuth(AuthBase):
    """HTTP Basic with the API username and password: API v2.1's scheme.

    The header is built once; the encoded value (which decodes to the
    password) is registered as a secret, so no log record can show it.
    """

    def __init__(self, username: str, password: str):
        from ..redact import register_secret

        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        register_secret(token)
        register_secret(password)
        self._header = f"Basic {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "BasicAuth(<hidden>)"


def basic_auth(credentials: Credentials) -> AuthBase:
    """HTTP Basic with ``credentials.username`` / ``credentials.password`` (v2.1)."""
    return BasicAuth(credentials.username, credentials.password)


def auth_for(credentials: Credentials) -> AuthBase:
    """The scheme the credentials are for: Basic for an API username, OAuth 1.0a for a consumer key."""
    return basic_auth(credentials) if credentials.auth == "basic" else oauth1_auth(credentials)
