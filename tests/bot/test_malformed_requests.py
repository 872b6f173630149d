"""Malformed requests to the bot's HTTP endpoint (issue 11, item 13): 400 and one redacted log
line, never a 500 with a raw traceback on stderr; a silent client does not hold a thread."""

from __future__ import annotations

import json
import logging
import socket
from urllib.parse import quote

import pytest

from bot import run as bot_run
from bot.standin.payloads import send_signed
from bot.standin.web_api import FakeSlack
from tests.support.botkit import SIGNING_SECRET, RunningBot


@pytest.fixture
def bot(sandbox, tmp_path, capfd, caplog):
    with FakeSlack() as slack, caplog.at_level(logging.DEBUG):
        running = RunningBot(sandbox, slack, tmp_path / "botdata")
        try:
            yield running
        finally:
            running.close()
    stderr = capfd.readouterr().err
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "Traceback" not in stderr
    assert "5558383" not in stderr + logged  # the body's number, in no form


def _form(payload) -> str:
    return "payload=" + quote(payload if isinstance(payload, str) else json.dumps(payload))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_form("not json 212-555-8383"), "application/x-www-form-urlencoded"),
        (_form([2125558383]), "application/x-www-form-urlencoded"),
        (
            _form({"type": "block_actions", "user": {"id": "U1"}, "actions": "2125558383"}),
            "application/x-www-form-urlencoded",
        ),
        (
            _form({"type": "view_submission", "user": {"id": "U1"}, "view": "2125558383"}),
            "application/x-www-form-urlencoded",
        ),
        (_form({"type": ["block_actions"], "user": {"id": "U1"}}), "application/x-www-form-urlencoded"),
        (
            _form({"type": "message_action", "user": {"id": "U1"}, "team": 2125558383}),
            "application/x-www-form-urlencoded",
        ),
        (json.dumps({"type": "event_callback", "event": "2125558383"}), "application/json"),
        (
            json.dumps({"type": "event_callback", "event": {"type": "x"}, "authorizations": [2125558383]}),
            "application/json",
        ),
        ("{not json 2125558383", "application/json"),
        ("command=/caller&text=2125558383&user_id=U1", "application/x-www-form-urlencoded"),  # no response_url
    ],
    ids=[
        "payload-not-json",
        "payload-a-list",
        "actions-a-string",
        "view-a-string",
        "type-a-list",
        "team-a-number",
        "event-a-string",
        "authorizations-of-numbers",
        "json-broken",
        "command-without-response-url",
    ],
)
def test_correctly_signed_but_malformed_is_400(bot, caplog, body, content_type):
    resp = send_signed(bot.url, body, SIGNING_SECRET, content_type=content_type)
    assert resp.status_code == 400
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot" and "refused a malformed" in r.getMessage()]
    assert len(refusals) == 1


def test_a_body_that_is_not_utf8_is_400(bot):
    import requests

    resp = requests.post(bot.url, data=b"payload=\xff\xfe", headers={"Content-Type": "text/plain"}, timeout=10)
    assert resp.status_code == 400


def test_well_formed_requests_still_reach_the_app(bot):
    resp, _ = bot.command("help")
    assert resp.status_code == 200


def test_a_body_shorter_than_its_length_does_not_hold_a_thread(bot, monkeypatch):
    monkeypatch.setattr(bot_run._QuietHandler, "timeout", 0.3)
    host, port = bot.server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    assert received.startswith((b"HTTP/1.0 408", b"HTTP/1.1 408"))
