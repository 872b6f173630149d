"""The transport alone: signed attempts, retries and waits, the auth and pacing seams, over real HTTP."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
from requests.auth import AuthBase

from nextcaller_ops import errors
from nextcaller_ops.client.transport import Transport, oauth1_auth
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from tests.support.rawserver import RawServer, reply
from tests.support.secrets import FAULT_SECRET

RECORDS = b'{"records": []}'
RATE_LIMITED = b'{"error": {"message": "slow", "type": "RateLimit", "code": 1061}}'
PHONE = {"phone": "2125558383", "format": "json"}


def _rate_limited(headers: str = ""):
    return reply("429 Too Many Requests", RATE_LIMITED, extra=headers)


class CountingAuth(AuthBase):
    """Stamps each attempt with its number, the way OAuth1 stamps a fresh nonce."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        self.calls += 1
        r.headers["X-Attempt"] = str(self.calls)
        return r


class RecordingPacer:
    def __init__(self) -> None:
        self.events: list[str | int] = []

    def wait(self) -> None:
        self.events.append("wait")

    def observe(self, response: requests.Response) -> None:
        self.events.append(response.status_code)


def _transport(url: str, auth: AuthBase | None = None, **kw) -> tuple[Transport, list[float]]:
    slept: list[float] = []
    settings = load_settings(
        base_url=url, max_retries=kw.pop("max_retries", 3), max_retry_wait=kw.pop("max_retry_wait", 30.0)
    )
    auth = auth or oauth1_auth(Credentials("TRANSPORTKEY0001", FAULT_SECRET, source="explicit"))
    return Transport(settings, auth, sleep=slept.append, **kw), slept


@pytest.fixture
def sandbox_transport(sandbox):
    creds = Credentials(sandbox.consumer_key, sandbox.consumer_secret, source="explicit")
    transport, slept = _transport(sandbox.url, oauth1_auth(creds))
    with transport:
        yield transport, slept


def test_every_retry_is_signed_with_a_fresh_nonce(sandbox, sandbox_transport):
    transport, slept = sandbox_transport
    sandbox.inject(503, count=2)
    resp = transport.request("GET", "records/", params=PHONE)
    assert resp.status_code == 200 and transport.decode(resp)["records"]
    nonces = [r["nonce"] for r in sandbox.httpd.signed_requests]
    assert len(nonces) == 3 == len(set(nonces)) == transport.requests_sent
    assert len(slept) == 2


def test_persistent_5xx_hands_back_the_last_answer_for_decode_to_raise(sandbox, sandbox_transport):
    transport, slept = sandbox_transport
    sandbox.inject(503, count=4)
    resp = transport.request("GET", "records/", params=PHONE)
    assert resp.status_code == 503 and transport.requests_sent == 4 and len(slept) == 3
    with pytest.raises(errors.ServerError):
        transport.decode(resp)


def test_auth_errors_are_not_retried(sandbox):
    wrong = oauth1_auth(Credentials(sandbox.consumer_key, "not-the-secret", source="explicit"))
    transport, slept = _transport(sandbox.url, wrong)
    with transport:
        resp = transport.request("GET", "records/", params=PHONE)
        with pytest.raises(errors.AuthError):
            transport.decode(resp)
    assert resp.status_code == 401 and transport.requests_sent == 1 and slept == []


@pytest.mark.parametrize(
    ("headers", "cap", "expected"),
    [
        ("Retry-After: 7\r\n", 30.0, 7.0),
        ("Retry-After: 3600\r\n", 5.0, 5.0),
        ("X-Rate-Limit-Reset: 3\r\n", 30.0, 3.0),
        (f"Retry-After: {email.utils.formatdate(time.time() + 3600, usegmt=True)}\r\n", 12.0, 12.0),
    ],
    ids=["retry-after", "retry-after-capped", "reset-seconds", "http-date-capped"],
)
def test_429_waits_as_the_api_asks_within_the_cap(headers, cap, expected):
    with RawServer([_rate_limited(headers), reply("200 OK", RECORDS)]) as server:
        transport, slept = _transport(server.url, max_retry_wait=cap)
        with transport:
            assert transport.request("GET", "records/", params=PHONE).status_code == 200
    assert slept == [expected]


def test_429_without_a_hint_backs_off_with_jitter():
    with RawServer([_rate_limited(), _rate_limited(), reply("200 OK", RECORDS)]) as server:
        transport, slept = _transport(server.url)
        with transport:
            transport.request("GET", "records/", params=PHONE)
    # 0.25 s then 0.5 s, each times a jitter factor in [0.5, 1)
    assert len(slept) == 2 and 0.125 <= slept[0] < 0.25 and 0.25 <= slept[1] < 0.5


def test_a_final_429_becomes_a_rate_limit_error_carrying_the_wait():
    with RawServer([_rate_limited("Retry-After: 2\r\n")]) as server:
        transport, _ = _transport(server.url, max_retries=1)
        with transport:
            resp = transport.request("GET", "records/", params=PHONE)
            with pytest.raises(errors.RateLimitError) as info:
                transport.decode(resp)
    assert info.value.code == 1061 and info.value.retry_after == 2.0 and transport.requests_sent == 2


def test_the_auth_object_is_applied_to_every_attempt_and_the_pacer_asked_before_each():
    auth, pacer = CountingAuth(), RecordingPacer()
    script = [reply("503 Service Unavailable", b"{}"), _rate_limited("Retry-After: 0\r\n"), reply("200 OK", RECORDS)]
    with RawServer(script) as server:
        transport, _ = _transport(server.url, auth, pacer=pacer)
        with transport:
            transport.request("GET", "records/", params=PHONE)
        attempts = [line for r in server.requests for line in r.split(b"\r\n") if line.startswith(b"X-Attempt")]
    assert auth.calls == 3 and attempts == [b"X-Attempt: 1", b"X-Attempt: 2", b"X-Attempt: 3"]
    assert pacer.events == ["wait", 503, "wait", 429, "wait", 200]


def test_connection_failures_are_retried_then_raised(unused_port):
    pacer = RecordingPacer()
    transport, slept = _transport(f"http://127.0.0.1:{unused_port}", max_retries=2, pacer=pacer)
    with transport, pytest.raises(errors.APIUnreachableError) as info:
        transport.request("GET", "records/", params=PHONE)
    assert "connection refused" in str(info.value)
    assert transport.requests_sent == 3 and len(slept) == 2 and pacer.events == ["wait"] * 3


def test_every_call_has_a_timeout_and_the_pool_matches_the_concurrency():
    seen: list[object] = []

    class RecordingSession(requests.Session):
        def request(self, method, url, **kw):  # type: ignore[override]
            seen.append(kw.get("timeout"))
            return super().request(method, url, **kw)

    with RawServer([reply("200 OK", RECORDS)]) as server:
        settings = load_settings(base_url=server.url, timeout=7.0, concurrency=6)
        transport = Transport(settings, CountingAuth(), session=RecordingSession())
        with transport:
            transport.request("GET", "records/", params=PHONE)
            transport.request("POST", "users/x/", params={"format": "json"}, body={"email": "a@b.co"})
            adapter = transport._session.get_adapter(server.url)
            assert adapter.poolmanager.connection_pool_kw["maxsize"] == 6
            assert adapter.max_retries.total == 0  # urllib3 would replay a signed request
            transport.ensure_pool(32)
            assert transport._session.get_adapter(server.url).poolmanager.connection_pool_kw["maxsize"] == 32
    assert seen == [(5.0, 7.0), (5.0, 7.0)]


def test_the_repr_names_the_auth_kind_never_the_secret():
    transport, _ = _transport("http://127.0.0.1:1")
    with transport:
        assert FAULT_SECRET not in repr(transport) and "OAuth1" in repr(transport)
        assert "TRANSPORTKEY0001" not in repr(transport)


@pytest.fixture
def unused_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
