"""The fault matrix: every way the API (or what stands in front of it) can misbehave.

Each case ends in the right error class with its hint: never a crash, a hang,
or a retry that re-sends a used nonce.  The README's fault table lists them.
"""

from __future__ import annotations

import socket

import pytest

from nextcaller_ops import errors
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from tests.support.common import wait_until
from tests.support.rawserver import RawServer, close_at_once, drop_mid_body, hang, reply
from tests.support.secrets import FAULT_SECRET as SECRET

CREDS = Credentials("FAULTKEY00000001", SECRET, source="explicit")

HTML = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><response><records><object><name>&lol2;</name>'
    b"</object></records></response>"
)


def raw_client(url: str, **kw) -> NextCallerClient:
    # Every scripted fault answers at once: a generous read timeout only matters on a loaded machine,
    # where a short one would turn the fault under test into a timeout.
    settings = load_settings(base_url=url, timeout=kw.pop("timeout", 10.0), max_retries=kw.pop("max_retries", 2))
    return NextCallerClient(CREDS, settings, sleep=lambda s: None)


RAW_CASES = [
    # (id, script, call, expected class, words in the message)
    ("html-502-from-a-proxy", [reply("502 Bad Gateway", HTML, "text/html")], "lookup", errors.ServerError, "502"),
    ("html-200-captive-portal", [reply("200 OK", HTML, "text/html")], "lookup", errors.BadResponseError, "text/html"),
    (
        "truncated-json",
        [reply("200 OK", b'{"records": [{"id": "97d9')],
        "lookup",
        errors.BadResponseError,
        "not valid JSON",
    ),
    ("json-without-records", [reply("200 OK", b'{"result": "ok"}')], "lookup", errors.BadResponseError, "records"),
    ("records-not-a-list", [reply("200 OK", b'{"records": "nope"}')], "lookup", errors.BadResponseError, "not a list"),
    (
        "malformed-xml",
        [reply("200 OK", b"<response><records><object>", "application/xml")],
        "xml",
        errors.BadResponseError,
        "not well-formed",
    ),
    ("xml-entity-bomb", [reply("200 OK", BOMB, "application/xml")], "xml", errors.BadResponseError, "unsafe"),
    ("dropped-mid-body", [drop_mid_body], "lookup", errors.APIUnreachableError, "dropped"),
    ("closed-without-answer", [close_at_once], "lookup", errors.APIUnreachableError, "cannot reach"),
    (
        "unknown-error-shape",
        [reply("400 Bad Request", b'{"detail": "weird"}')],
        "lookup",
        errors.BadResponseError,
        "400",
    ),
]


@pytest.mark.parametrize("case", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_raw_server_faults(case):
    _, script, call, expected, words = case
    with RawServer(script) as server, raw_client(server.url) as client:
        with pytest.raises(expected) as info:
            client.lookup_raw("2125558383", "xml") if call == "xml" else client.lookup("2125558383")
    message = str(info.value)
    assert words in message and info.value.hint in message
    assert SECRET not in message and SECRET not in repr(info.value)
    nonces = server.nonces()
    assert len(nonces) == len(set(nonces)) >= 1  # every retry freshly signed


def test_read_timeout_retries_with_fresh_nonces_then_gives_up():
    with RawServer([hang(3)]) as server, raw_client(server.url, timeout=0.3, max_retries=2) as client:
        with pytest.raises(errors.APITimeoutError) as info:
            client.lookup("2125558383")
    assert "did not answer within" in str(info.value)
    # the client gave up on the third request; the server's thread may still be reading it
    nonces = wait_until(lambda: len(server.nonces()) >= 3 and server.nonces(), what="third request at the server")
    assert len(nonces) == 3 and len(set(nonces)) == 3


def test_a_timeout_then_an_answer_succeeds():
    good = reply("200 OK", b'{"records": [{"id": "97d949a413f4ea8b85e9586e1f2d9a", "name": "J"}]}')
    # the first request outlasts the client's timeout; the retry's answer comes well within it, even on a busy machine
    with RawServer([hang(5), good]) as server, raw_client(server.url, timeout=1.0) as client:
        assert client.lookup("2125558383").profiles[0].name == "J"


def test_connection_refused():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with raw_client(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(errors.APIUnreachableError) as info:
            client.lookup("2125558383")
    assert "connection refused" in str(info.value) and client.requests_sent == 3


def test_503_burst_recovers(client, sandbox):
    sandbox.inject(503, count=3)
    assert client.lookup("2125558383").found
    nonces = [r["nonce"] for r in sandbox.httpd.signed_requests]
    assert len(nonces) == 4 == len(set(nonces))


def test_429_with_and_without_retry_after(client, sandbox):
    sandbox.inject(429, code=1061, retry_after="1")
    sandbox.inject(429, code=1061)
    assert client.lookup("2125558383").found
    assert client.slept[0] == 1.0 and 0 < client.slept[1] <= 1


def test_x_rate_limit_reset_is_honoured():
    import time

    with RawServer(
        [
            reply(
                "429 Too Many Requests",
                b'{"error": {"message": "slow", "type": "RateLimit", "code": 1061}}',
                extra=f"X-Rate-Limit-Reset: {int(time.time()) + 4}\r\n",
            ),
            reply("200 OK", b'{"records": []}'),
        ]
    ) as server:
        slept = []
        with NextCallerClient(CREDS, load_settings(base_url=server.url), sleep=slept.append) as c:
            assert not c.lookup("2125558383").found
    assert 2.5 <= slept[0] <= 4.0


@pytest.mark.parametrize(
    "code,cls",
    [
        (1046, errors.InvalidConsumerKeyError),
        (1047, errors.InactiveConsumerKeyError),
        (1048, errors.MissingConsumerKeyError),
        (1049, errors.ExpiredConsumerKeyError),
        (8643, errors.BillingError),
        (8644, errors.ExpiredTrialError),
    ],
)
def test_each_auth_code(client, sandbox, code, cls):
    status = {8643: 402, 8644: 403}.get(code, 401)
    sandbox.inject(status, code=code)
    with pytest.raises(cls) as info:
        client.lookup("2125558383")
    assert info.value.code == code and info.value.status == status
    assert client.requests_sent == 1  # not retried: waiting would not help
    assert sandbox.consumer_secret not in str(info.value)


def test_bad_signature_is_its_own_error(api_env, sandbox):
    with NextCallerClient(Credentials(sandbox.consumer_key, "wrong-secret-value", source="explicit")) as c:
        with pytest.raises(errors.InvalidSignatureError) as info:
            c.lookup("2125558383")
    assert "clock" in str(info.value) and "wrong-secret-value" not in str(info.value)


@pytest.mark.parametrize(
    "hostile",
    [
        "2125558383&format=xml",
        "2125558383%26format%3Dxml",
        "../2125558383",
        "2125558383/../../users",
        "2125558383\r\nX-Injected: 1",
        "x" * 10_000,
        "2" * 5000,
        "２１２５５５８３８３",
        "٢١٢٥٥٥٨٣٨٣",
        "2125558383;DROP TABLE",
        "+1 (212) 555-8383",
        "212 555 8383 ext. 99",
    ],
)
def test_injection_never_reaches_the_api_unclean(client, sandbox, hostile):
    try:
        client.lookup(hostile)
    except errors.InvalidPhoneError:
        assert sandbox.httpd.request_count == 0
        return
    (request,) = sandbox.httpd.signed_requests
    assert request["path"] == "/v2/records/"
    assert request["query"] == {"phone": ["2125558383"], "format": ["json"]}


def test_cli_never_shows_a_traceback_for_a_fault(capsys, monkeypatch):
    from nextcaller_ops.cli.main import main

    with RawServer([reply("200 OK", b"{broken", "application/json")]) as server:
        monkeypatch.setenv("NEXTCALLER_BASE_URL", server.url)
        monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "FAULTKEY00000001")
        monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", SECRET)
        code = main(["lookup", "2125558383"])
    out, err = capsys.readouterr()
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err and err.count("\n") == 1
    assert SECRET not in out + err


def test_an_html_404_is_a_wrong_base_url_not_a_silent_miss():
    with (
        RawServer([reply("404 Not Found", b"<h1>Not Found</h1>", "text/html")]) as server,
        raw_client(server.url) as client,
    ):
        with pytest.raises(errors.BadResponseError) as info:
            client.lookup("2125558383")
    assert "404" in str(info.value) and "root" in str(info.value)


def test_a_base_url_ending_in_the_version_is_taken_as_the_root(api_env, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", api_env.url + "/v2/")
    with NextCallerClient() as client:
        assert client.settings.base_url == api_env.url
        assert client.lookup("2125558383").found
