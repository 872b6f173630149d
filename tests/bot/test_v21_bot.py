"""The bot on API v2.1, through Bolt's pipeline: /caller by email, v2.1's fields on the card, the Fraud check button."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import blocks as bk
from bot import messages
from bot.app import build_app
from bot.services import build_services
from bot.standin.payloads import block_actions, command_body, interaction_body
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE
from tests.bot.test_scenarios import signed
from tests.support.botkit import bot_settings, sandbox_client
from tests.support.common import SEINFELD_ID

pytestmark = pytest.mark.timeout(60)


class Bot:
    """The Bolt app and its services over a v2.1 (or v2) client; Slack's side is the local fake."""

    def __init__(self, sandbox, slack: FakeSlack, data_dir, api_version: str):
        self.slack = slack
        self.settings = bot_settings(data_dir, slack.api_url)
        self.client = sandbox_client(sandbox, api_version)
        self.services = build_services(self.settings, self.client)
        self.app = build_app(self.settings, self.client, services=self.services)
        self._n = 0

    def close(self) -> None:
        self.services.close()
        self.client.close()

    def _url(self) -> tuple[str, str]:
        self._n += 1
        return f"v{self._n}", self.slack.response_url(f"v{self._n}")

    def command(self, text: str):
        name, url = self._url()
        return self.app.dispatch(signed(command_body(text, response_url=url))), name

    def click(self, action_id: str, value: str):
        name, url = self._url()
        payload = block_actions(action_id, value, response_url=url, trigger_id="trig.v21")
        return self.app.dispatch(signed(interaction_body(payload))), name

    def responses(self, name: str) -> list[dict[str, Any]]:
        calls = self.slack.wait_for(lambda cs: any(c["kind"] == "response" and c["name"] == name for c in cs))
        return [c["args"] for c in calls if c["kind"] == "response" and c["name"] == name]


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def v21(sandbox, slack, tmp_path):
    bot = Bot(sandbox, slack, tmp_path / "v21", "v2.1")
    yield bot
    bot.close()


@pytest.fixture
def v2(sandbox, slack, tmp_path):
    bot = Bot(sandbox, slack, tmp_path / "v2", "v2")
    yield bot
    bot.close()


def _texts(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_caller_by_email_answers_with_the_card_and_its_v21_fields(v21, sandbox):
    response, name = v21.command("demo@nextcaller.com")
    assert (response.status, response.body) == (200, "")  # acked at once; the card follows
    (card,) = v21.responses(name)
    assert card["response_type"] == "ephemeral" and card["blocks"][0]["text"]["text"] == "Jerry Seinfeld"
    shown = _texts(card)
    for field in ("*Line type*\\nLAN", "*Spoofed*\\nno", "*Age*\\n45-54", "*Department*\\nnot specified"):
        assert field in shown  # more than 10 fields: a second section, none pushed out
    assert all(len(b.get("fields", [])) <= bk.MAX_FIELDS for b in card["blocks"])
    assert _buttons(card) == [bk.ACTION_SUGGEST, bk.ACTION_SHARE, bk.ACTION_REFRESH, bk.ACTION_FRAUD, bk.ACTION_VERIFY]
    assert "2125558383" in card["blocks"][-1]["elements"][-1]["value"]  # the buttons act on the record's number
    (entry,) = v21.services.audit.entries()
    assert (entry["action"], entry["outcome"], entry["detail"]) == ("lookup_email", "found 1", "demo@nextcaller.com")
    assert sandbox.httpd.signed_requests[-1]["query"]["email"] == ["demo@nextcaller.com"]


def test_caller_by_email_without_a_record(v21):
    _, name = v21.command("nobody@example.org")
    (answer,) = v21.responses(name)
    assert answer["text"] == messages.no_record("nobody@example.org") == "No record for nobody@example.org."


def test_a_malformed_address_is_refused_in_the_ack(v21, sandbox):
    response, _ = v21.command("jerry@example")
    body = json.loads(response.body)
    assert body["response_type"] == "ephemeral" and "is not an email address" in body["text"]
    assert sandbox.httpd.request_count == 0


def test_fraud_check_button_answers_privately_under_the_card(v21, sandbox):
    _, name = v21.command(HOUSEHOLD_PHONE)
    (card,) = v21.responses(name)
    value = next(
        e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == bk.ACTION_FRAUD
    )
    response, clicked = v21.click(bk.ACTION_FRAUD, value)
    assert response.status == 200
    (answer,) = v21.responses(clicked)
    assert answer["replace_original"] is False and answer["response_type"] == "ephemeral"
    assert answer["text"] == messages.fraud_level("(312) 555-0142", "high", "true")
    assert "risk 🔴 high" in answer["text"] and "spoofed: ⚠️ yes" in answer["text"]
    assert v21.services.audit.entries()[-1]["action"] == "fraud"
    assert sandbox.httpd.signed_requests[-1]["path"] == "/v2.1/fraud/"


def test_on_v2_email_is_one_sentence_and_the_card_has_no_fraud_check(v2, sandbox):
    response, _ = v2.command("demo@nextcaller.com")
    body = json.loads(response.body)
    assert body["text"] == messages.needs_v21("a lookup by email") and "v2.1" in body["text"]
    assert sandbox.httpd.request_count == 0
    _, name = v2.command("2125558383")
    (card,) = v2.responses(name)
    assert _buttons(card) == [
        bk.ACTION_SUGGEST,
        bk.ACTION_SHARE,
        bk.ACTION_REFRESH,
        bk.ACTION_VERIFY,
    ]  # no Fraud check on v2
    assert "Line type" not in _texts(card) and SEINFELD_ID in _texts(card)
