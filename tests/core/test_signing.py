"""The client's OAuth 1.0a signature, checked independently of oauthlib and of the sandbox.

A raw server captures what the client sends; the test rebuilds the RFC 5849
signature base string by hand (hmac + hashlib) and compares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from tests.support.rawserver import RawServer, reply

KEY, SECRET = "INDEPENDENT0000001", "independent-secret/with+odd=chars"


def _enc(text: str) -> str:
    return quote(text, safe="~-._")


def _expected_signature(method: str, url: str, oauth: dict[str, str], secret: str) -> str:
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    params += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in params))
    base_uri = f"{parts.scheme}://{parts.netloc}{parts.path}"
    base = "&".join([method.upper(), _enc(base_uri), _enc(normalized)])
    digest = hmac.new(f"{_enc(secret)}&".encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _captured(raw: bytes) -> tuple[str, str, dict[str, str]]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    request_line, *headers = head.split("\r\n")
    method, target, _ = request_line.split(" ")
    auth = next(h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("authorization:"))
    assert auth.startswith("OAuth ")
    oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', auth)}
    return method, target, oauth


def test_signature_matches_rfc5849_computed_by_hand():
    body = b'{"records": [{"id": "97d949a413f4ea8b85e9586e1f2d9a", "name": "Jerry Seinfeld"}]}'
    with RawServer([reply("200 OK", body)]) as server:
        settings = load_settings(base_url=server.url)
        with NextCallerClient(Credentials(KEY, SECRET, source="explicit"), settings) as client:
            assert client.lookup("(212) 555-8383").profiles[0].name == "Jerry Seinfeld"
        method, target, oauth = _captured(server.requests[0])
    assert method == "GET"
    assert target.startswith("/v2/records/?") and "phone=2125558383" in target and "format=json" in target
    assert oauth["oauth_consumer_key"] == KEY
    assert oauth["oauth_signature_method"] == "HMAC-SHA1" and oauth["oauth_version"] == "1.0"
    assert re.fullmatch(r"\d{10}", oauth["oauth_timestamp"]) and len(oauth["oauth_nonce"]) >= 8
    url = server.url + target
    assert oauth["oauth_signature"] == _expected_signature(method, url, oauth, SECRET)


def test_a_post_is_signed_over_url_and_oauth_params_only():
    with RawServer([reply("200 OK", b'{"success": true}')]) as server:
        settings = load_settings(base_url=server.url)
        with NextCallerClient(Credentials(KEY, SECRET, source="explicit"), settings) as client:
            client.update_profile("97d949a413f4ea8b85e9586e1f2d9a", {"first_name": "Clark"})
        method, target, oauth = _captured(server.requests[0])
        raw = server.requests[0]
    assert method == "POST" and target == "/v2/users/97d949a413f4ea8b85e9586e1f2d9a/?format=json"
    assert b"application/json" in raw
    assert oauth["oauth_signature"] == _expected_signature(method, server.url + target, oauth, SECRET)
