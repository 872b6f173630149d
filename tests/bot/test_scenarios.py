"""Scenarios through Bolt's own pipeline: ``app.dispatch(BoltRequest(...))``, signed as Slack signs.

No HTTP server for the bot (the signed-HTTP tests are in ``test_bot.py``): the
request goes straight into ``App.dispatch``, as bolt-python's own tests do.
Slack's side is the local fake (``bot/standin/web_api.py``): the Web API at
``WebClient(base_url=...)`` and the ``response_url`` endpoints.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot import blocks as bk
from bot import messages, modal
from bot.app import build_app
from bot.services import build_services
from bot.standin.payloads import block_actions, command_body, interaction_body, view_submission
from bot.standin.web_api import FakeSlack
from tests.support.botkit import AGENT, SIGNING_SECRET, TRIAGE, bot_settings, sandbox_client
from tests.support.common import SEINFELD_ID

pytestmark = pytest.mark.timeout(60)

FORM = "application/x-www-form-urlencoded"
SEINFELD_BUTTON = json.dumps({"id": SEINFELD_ID, "phone": "2125558383"})


def signed(body: str, content_type: str = FORM, *, secret: str = SIGNING_SECRET, **headers: str) -> BoltRequest:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return BoltRequest(
        body=body,
        headers={
            "content-type": [content_type],
            "x-slack-signature": [signature],
            "x-slack-request-timestamp": [timestamp],
            **{k.replace("_", "-"): [v] for k, v in headers.items()},
        },
    )


class Scene:
    """The bot's App with its services, the fake Slack, and Slack's payloads."""

    def __init__(self, sandbox, slack: FakeSlack, data_dir, **overrides: Any):
        self.slack = slack
        self.settings = bot_settings(data_dir, slack.api_url, **overrides)
        self.client = sandbox_client(sandbox)
        self.services = build_services(self.settings, self.client)
        self.app = build_app(self.settings, self.client, services=self.services)
        self._n = 0

    def close(self) -> None:
        self.services.close()
        self.client.close()

    def response_url(self) -> tuple[str, str]:
        self._n += 1
        return f"s{self._n}", self.slack.response_url(f"s{self._n}")

    def command(self, text: str, **kw: Any):
        name, url = self.response_url()
        return self.app.dispatch(signed(command_body(text, response_url=url, **kw))), name

    def click(self, action_id: str, value: str):
        name, url = self.response_url()
        payload = block_actions(action_id, value, response_url=url, trigger_id="trig.scene")
        return self.app.dispatch(signed(interaction_body(payload))), name

    def submit(self, view: dict[str, Any], values: dict[str, str], view_id: str = "V0SCENE001", **headers: str):
        payload = view_submission(view, values, view_id=view_id)
        return self.app.dispatch(signed(interaction_body(payload), **headers))

    def responses(self, name: str, count: int = 1) -> list[dict[str, Any]]:
        calls = self.slack.wait_for(lambda cs: sum(c["kind"] == "response" and c["name"] == name for c in cs) >= count)
        return [c["args"] for c in calls if c["kind"] == "response" and c["name"] == name]

    def api_calls(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        calls = self.slack.wait_for(lambda cs: sum(c["name"] == method for c in cs) >= count)
        return [c["args"] for c in calls if c["name"] == method]


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def make_scene(sandbox, slack, tmp_path):
    scenes: list[Scene] = []

    def make(**overrides: Any) -> Scene:
        scene = Scene(sandbox, slack, tmp_path / f"bot{len(scenes)}", **overrides)
        scenes.append(scene)
        return scene

    yield make
    for scene in scenes:
        scene.close()


@pytest.fixture
def scene(make_scene):
    return make_scene()


def test_caller_acks_empty_then_the_card_arrives_at_the_response_url(scene):
    response, name = scene.command("212-555-8383")
    assert (response.status, response.body) == (200, "")
    (card,) = scene.responses(name)
    assert card["response_type"] == "ephemeral" and card["blocks"][0]["text"]["text"] == "Jerry Seinfeld"


def test_usage_and_refusals_are_in_the_ack_body(make_scene, sandbox):
    scene = make_scene(allowed_channels=frozenset({TRIAGE}))
    usage, _ = scene.command("help")
    assert usage.status == 200 and json.loads(usage.body)["text"] == messages.USAGE
    refused, _ = scene.command("2125558383", channel_id="C0ELSEWHERE")
    assert json.loads(refused.body)["text"].startswith("Sorry — caller lookups aren't enabled in this channel")
    assert sandbox.httpd.request_count == 0


def test_a_request_signed_with_another_secret_is_refused_before_any_listener(scene, sandbox, slack):
    name, url = scene.response_url()
    response = scene.app.dispatch(signed(command_body("2125558383", response_url=url), secret="not-ours"))
    assert response.status == 401
    assert scene.services.audit.entries() == [] and sandbox.httpd.request_count == 0
    assert not slack.calls("response", name)


def test_refresh_replaces_the_card(scene):
    scene.command("2125558383")
    response, name = scene.click(bk.ACTION_REFRESH, SEINFELD_BUTTON)
    assert (response.status, response.body) == (200, "")
    (replaced,) = scene.responses(name)
    assert replaced["replace_original"] is True and replaced["blocks"][0]["text"]["text"] == "Jerry Seinfeld"


def test_share_posts_to_the_channel_through_the_web_api(scene):
    response, name = scene.click(bk.ACTION_SHARE, SEINFELD_BUTTON)
    assert response.status == 200
    (post,) = scene.api_calls("chat.postMessage")
    assert post["channel"] == TRIAGE and "demo@nextcaller.com" not in json.dumps(post["blocks"])
    (note,) = scene.responses(name)
    assert note["text"] == messages.shared(True)


def test_suggest_then_submit_delivers_the_correction(scene, sandbox):
    scene.command("2125558383")
    response, _ = scene.click(bk.ACTION_SUGGEST, SEINFELD_BUTTON)
    assert response.status == 200
    (opened,) = scene.api_calls("views.open")
    submitted = scene.submit(opened["view"], {modal.field_block_id("first_name"): "Jerome"})
    assert (submitted.status, submitted.body) == (200, "")
    (note,) = scene.api_calls("chat.postEphemeral")  # sent after the ack, once the correction was delivered
    assert note["text"] == messages.correction_sent(SEINFELD_ID, {"first_name": "Jerome"})
    assert sandbox.store.corrections(SEINFELD_ID)[-1]["body"] == {"first_name": "Jerome"}


def test_a_bad_field_comes_back_in_the_submissions_response(scene, sandbox):
    scene.command("2125558383")
    scene.click(bk.ACTION_SUGGEST, SEINFELD_BUTTON)
    (opened,) = scene.api_calls("views.open")
    submitted = scene.submit(opened["view"], {modal.field_block_id("email"): "not-an-email"})
    body = json.loads(submitted.body)
    assert body == {"response_action": "errors", "errors": {modal.field_block_id("email"): "Not an email address"}}
    assert not sandbox.store.corrections()


def test_a_retried_submission_is_one_correction(scene, sandbox):
    scene.command("2125558383")
    scene.click(bk.ACTION_SUGGEST, SEINFELD_BUTTON)
    (opened,) = scene.api_calls("views.open")
    first = scene.submit(opened["view"], {modal.field_block_id("first_name"): "Jerome"})
    again = scene.submit(
        opened["view"],
        {modal.field_block_id("first_name"): "Jerome"},
        x_slack_retry_num="1",
        x_slack_retry_reason="http_timeout",
    )
    assert first.status == again.status == 200
    scene.api_calls("chat.postEphemeral")  # the first one was delivered (the agent is told after)
    scene.app.listener_runner.listener_executor.shutdown(wait=True)  # and the retry's listener is done too
    assert len(sandbox.store.corrections(SEINFELD_ID)) == 1


def test_message_shortcut(scene):
    name, url = scene.response_url()
    payload = {
        "type": "message_action",
        "callback_id": bk.SHORTCUT_CALLBACK,
        "trigger_id": "trig.sc",
        "response_url": url,
        "team": {"id": "T0000000001"},
        "channel": {"id": TRIAGE},
        "user": {"id": AGENT},
        "message": {"type": "message", "text": "callback 212 555 8383 please", "ts": "1.2"},
        "message_ts": "1.2",
        "token": "legacy",
    }
    response = scene.app.dispatch(signed(interaction_body(payload)))
    assert response.status == 200
    (answer,) = scene.responses(name)
    assert answer["blocks"][0]["text"]["text"] == "Jerry Seinfeld"


def test_app_home_opened_publishes_the_home_tab(scene):
    _, name = scene.command("2125558383")
    scene.responses(name)  # the lookup is done (and audited) once its card went out
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0000000001",
            "api_app_id": "A0APP00001",
            "type": "event_callback",
            "event_id": "Ev0SCENE01",
            "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": AGENT, "channel": "D0DM", "tab": "home", "event_ts": "1.0"},
        }
    )
    response = scene.app.dispatch(signed(body, "application/json"))
    assert response.status == 200
    (published,) = scene.api_calls("views.publish")
    assert published["user_id"] == AGENT and "212***8383" in json.dumps(published["view"])


def test_build_app_still_builds_its_own_services(sandbox, slack, tmp_path):
    client = sandbox_client(sandbox)
    try:
        app = build_app(bot_settings(tmp_path / "own", slack.api_url), client)
        response = app.dispatch(signed(command_body("help", response_url=slack.response_url("own"))))
        assert json.loads(response.body)["text"] == messages.USAGE
    finally:
        client.close()
