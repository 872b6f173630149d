"""Workflow Builder steps (issue 27): ``function_executed`` events over signed HTTP and over Socket Mode,
and the ``functions.completeSuccess`` / ``functions.completeError`` calls the bot answers them with."""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any

import pytest

from bot.app import build_app
from bot.listeners.functions import FRAUD_CHECK, LOOKUP_CALLER, OPEN_TRIAGE
from bot.run import serve_http
from bot.services import build_services
from bot.standin.payloads import event_body, send_signed
from bot.standin.socket_server import FakeSocketMode
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.botkit import SIGNING_SECRET, bot_settings, sandbox_client
from tests.support.common import PATIENCE, ROOT
from tests.support.secrets import WORKFLOW_TOKEN
from tests.support.socketkit import APP_TOKEN, SocketBot, socket_env

AGENT, CHANNEL = "U0AGENT001", "C0TRIAGE01"
NUMBER = "2125558383"  # Jerry Seinfeld in the sandbox
HIGH_RISK = "3125550142"  # v2.1: fraud risk high, spoofed
NOBODY = "2015550123"  # a valid number with no record
_EXECUTIONS = itertools.count(1)


def function_event(callback_id: str, inputs: dict[str, Any], execution: str) -> dict[str, Any]:
    """The ``function_executed`` event Slack sends when a workflow reaches one of the app's steps."""
    return {
        "type": "function_executed",
        "function": {
            "id": f"Fn{callback_id}",
            "callback_id": callback_id,
            "title": callback_id,
            "description": "",
            "type": "app",
            "input_parameters": [],
            "output_parameters": [],
            "app_id": "A0APP00001",
            "date_created": 1700000000,
            "date_updated": 1700000000,
            "date_deleted": 0,
        },
        "inputs": inputs,
        "function_execution_id": execution,
        "workflow_execution_id": f"Wx{execution}",
        "event_ts": f"{time.time():.6f}",
        "bot_access_token": WORKFLOW_TOKEN,
    }


class HttpBot:
    """The real Bolt app over signed HTTP on API ``api_version``, Slack's side the local fake."""

    def __init__(self, sandbox, slack: FakeSlack, data_dir, api_version: str = "v2", **overrides: Any):
        self.slack = slack
        self.settings = bot_settings(data_dir, slack.api_url, **overrides)
        self.client = sandbox_client(sandbox, api_version)
        self.services = build_services(self.settings, self.client)
        self.app = build_app(self.settings, self.client, services=self.services)
        self.server = serve_http(self.app, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"

    def run_step(self, callback_id: str, **inputs: Any) -> dict[str, Any]:
        """Send the step's event; the complete call it was answered with: {"name", "args"}."""
        execution = f"Fx{next(_EXECUTIONS):05d}"  # unique across the bots sharing one fake Slack
        resp = send_signed(
            self.url,
            event_body(function_event(callback_id, inputs, execution)),
            SIGNING_SECRET,
            content_type="application/json",
        )
        assert resp.status_code == 200, resp.text
        return completed(self.slack, execution)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.listener_runner.listener_executor.shutdown(wait=True)
        self.services.close()
        self.client.close()


def completed(slack: FakeSlack, execution: str) -> dict[str, Any]:
    def done(calls: list[dict[str, Any]]) -> bool:
        return any(_completes(c, execution) for c in calls)

    calls = slack.wait_for(done, timeout=PATIENCE)
    (call,) = [c for c in calls if _completes(c, execution)]
    return {"name": call["name"], "args": call["args"], "auth": call["auth"]}


def _completes(call: dict[str, Any], execution: str) -> bool:
    return call["name"].startswith("functions.complete") and call["args"].get("function_execution_id") == execution


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def http_bot(sandbox, slack, tmp_path):
    bots: list[HttpBot] = []

    def make(api_version: str = "v2", **overrides: Any) -> HttpBot:
        bot = HttpBot(sandbox, slack, tmp_path / f"bot{len(bots)}", api_version, **overrides)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.close()


def test_look_up_caller_completes_with_the_records_outputs(http_bot, sandbox):
    bot = http_bot()
    done = bot.run_step(LOOKUP_CALLER, phone="(212) 555-8383", user_id=AGENT, channel_id=CHANNEL)
    assert done["name"] == "functions.completeSuccess"
    assert done["auth"] == f"Bearer {WORKFLOW_TOKEN}"  # the step's own token, as Slack asks
    outputs = done["args"]["outputs"]
    assert outputs["found"] is True and outputs["record_count"] >= 1
    assert "Seinfeld" in outputs["name"]
    assert {"carrier", "fraud_threat", "city", "state"} <= set(outputs)
    assert "line_type" not in outputs and "spoofed" not in outputs  # v2 has neither
    entry = bot.services.audit.entries()[-1]
    assert (entry["action"], entry["user_id"], entry["channel_id"]) == ("workflow_lookup", AGENT, CHANNEL)
    assert entry["outcome"].startswith("found")

    requests = len(sandbox.httpd.signed_requests)
    again = bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT, channel_id=CHANNEL)
    assert again["args"]["outputs"] == outputs
    assert len(sandbox.httpd.signed_requests) == requests  # the client's cache, as for /caller


def test_look_up_caller_completes_with_an_error_for_a_bad_number_no_record_and_a_refusal(http_bot, sandbox):
    bot = http_bot(allowed_channels=frozenset({CHANNEL}), lookups_per_minute=3)
    before = len(sandbox.httpd.signed_requests)
    bad = bot.run_step(LOOKUP_CALLER, phone="555-12", user_id=AGENT, channel_id=CHANNEL)
    assert bad["name"] == "functions.completeError"
    assert "10-digit US number" in bad["args"]["error"]
    assert len(sandbox.httpd.signed_requests) == before  # no API call for a bad number

    none = bot.run_step(LOOKUP_CALLER, phone=NOBODY, user_id=AGENT, channel_id=CHANNEL)
    assert none["name"] == "functions.completeError"
    assert none["args"]["error"] == "No record for (201) 555-0123."

    elsewhere = bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT, channel_id="C0ELSEWHERE")
    assert elsewhere["name"] == "functions.completeError" and "channel" in elsewhere["args"]["error"]
    nowhere = bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT)  # an allow-list and no channel named
    assert nowhere["name"] == "functions.completeError"
    refused = [e for e in bot.services.audit.entries() if e["outcome"] == "refused: policy"]
    assert [e["action"] for e in refused] == ["workflow_lookup", "workflow_lookup"]

    for _ in range(2):  # the no-record lookup was the first of three a minute; refusals did not count
        assert bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT, channel_id=CHANNEL)["name"].endswith("Success")
    over = bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT, channel_id=CHANNEL)
    assert over["name"] == "functions.completeError" and "lookups a minute" in over["args"]["error"]
    assert bot.services.audit.entries()[-1]["outcome"] == "refused: rate limit"


def test_look_up_caller_says_so_when_the_api_fails(http_bot, sandbox):
    bot = http_bot()
    sandbox.inject(401, code=1049)  # the API refuses the bot's key
    failed = bot.run_step(LOOKUP_CALLER, phone=NUMBER, user_id=AGENT, channel_id=CHANNEL)
    assert failed["name"] == "functions.completeError"
    assert failed["args"]["error"] and "<" not in failed["args"]["error"]
    assert bot.services.audit.entries()[-1]["outcome"] == "error"


def test_fraud_check_on_v21_and_its_one_sentence_on_v2(http_bot, sandbox):
    v21 = http_bot("v2.1")
    done = v21.run_step(FRAUD_CHECK, phone=HIGH_RISK, user_id=AGENT, channel_id=CHANNEL)
    assert done["name"] == "functions.completeSuccess"
    assert done["args"]["outputs"] == {"fraud_risk": "high", "spoofed": "true"}
    assert v21.services.audit.entries()[-1]["action"] == "workflow_fraud"
    looked = v21.run_step(LOOKUP_CALLER, phone=HIGH_RISK, user_id=AGENT, channel_id=CHANNEL)
    assert {"line_type", "spoofed"} <= set(looked["args"]["outputs"])

    v2 = http_bot("v2")
    before = len(sandbox.httpd.signed_requests)
    refused = v2.run_step(FRAUD_CHECK, phone=HIGH_RISK, user_id=AGENT, channel_id=CHANNEL)
    assert refused["name"] == "functions.completeError"
    assert "needs the newer Next Caller API (v2.1)" in refused["args"]["error"]
    assert len(sandbox.httpd.signed_requests) == before


def test_open_triage_item_answers_in_the_messages_thread_once(http_bot, slack):
    bot = http_bot()
    ts = "1700000000.000200"
    done = bot.run_step(OPEN_TRIAGE, channel_id="C0NOTWATCHED", message_ts=ts, phone=NUMBER, user_id=AGENT)
    assert done == {**done, "name": "functions.completeSuccess"}
    assert done["args"]["outputs"] == {"opened": True}
    calls = slack.wait_for(
        lambda cs: any(c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == ts for c in cs)
    )
    reply = next(c for c in calls if c["name"] == "chat.postMessage" and c["args"].get("thread_ts") == ts)
    assert reply["args"]["channel"] == "C0NOTWATCHED" and "Seinfeld" in json.dumps(reply["args"]["blocks"])
    item = bot.services.triage.store.get("C0NOTWATCHED", ts)
    assert item is not None and item.numbers == [NUMBER] and item.poster == AGENT

    again = bot.run_step(OPEN_TRIAGE, channel_id="C0NOTWATCHED", message_ts=ts, phone=NUMBER)
    assert again["args"]["outputs"] == {"opened": False}
    missing = bot.run_step(OPEN_TRIAGE, channel_id="C0NOTWATCHED", phone=NUMBER)
    assert missing["name"] == "functions.completeError" and "message_ts" in missing["args"]["error"]


def test_the_manifest_declares_each_step_the_bot_registers():
    import yaml

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    functions = manifest["functions"]
    assert set(functions) == {LOOKUP_CALLER, FRAUD_CHECK, OPEN_TRIAGE}
    lookup = functions[LOOKUP_CALLER]
    assert lookup["input_parameters"]["phone"] == {**lookup["input_parameters"]["phone"], "type": "string"}
    assert lookup["input_parameters"]["phone"]["is_required"] is True
    outputs = lookup["output_parameters"]
    assert outputs["found"]["type"] == "boolean" and outputs["record_count"]["type"] == "integer"
    assert {"name", "carrier", "fraud_threat", "city", "state", "line_type", "spoofed"} <= set(outputs)
    assert set(functions[FRAUD_CHECK]["output_parameters"]) == {"fraud_risk", "spoofed"}
    assert {"channel_id", "message_ts", "phone"} <= set(functions[OPEN_TRIAGE]["input_parameters"])
    assert "function_executed" in manifest["settings"]["event_subscriptions"]["bot_events"]
    assert manifest["settings"]["function_runtime"] == "remote"


def test_steps_over_socket_mode(tmp_path):
    with (
        Sandbox(records=20, db=tmp_path / "api.sqlite3") as sandbox,
        FakeSlack() as slack,
        FakeSocketMode(slack, APP_TOKEN) as sm,
    ):
        bot = SocketBot(socket_env(sandbox, slack, tmp_path / "bot"), sm, tmp_path / "bot.err")
        try:
            found = sm.event(function_event(LOOKUP_CALLER, {"phone": NUMBER, "user_id": AGENT}, "FxSOCK0001"))
            assert not sm.wait_ack(found).payload
            done = completed(slack, "FxSOCK0001")
            assert done["name"] == "functions.completeSuccess"
            assert done["args"]["outputs"]["found"] is True and "Seinfeld" in done["args"]["outputs"]["name"]

            bad = sm.event(function_event(LOOKUP_CALLER, {"phone": "not a number"}, "FxSOCK0002"))
            sm.wait_ack(bad)
            failed = completed(slack, "FxSOCK0002")
            assert failed["name"] == "functions.completeError" and failed["args"]["error"]

            v2 = sm.event(function_event(FRAUD_CHECK, {"phone": NUMBER}, "FxSOCK0003"))
            sm.wait_ack(v2)
            assert "v2.1" in completed(slack, "FxSOCK0003")["args"]["error"]
        finally:
            bot.stop()
