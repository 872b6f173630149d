"""Each listener called directly: mocked ack/respond/Web API, real services against the sandbox.

One ``Mock`` parent records ack, respond and the Web API client together, so the
order of what a listener did is in ``slack.mock_calls``.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import Mock, call

import pytest
from slack_sdk import WebClient

from bot import messages, modal
from bot.listeners.actions.refresh import refresh_card
from bot.listeners.actions.share import share_card
from bot.listeners.actions.suggest import open_correction_modal
from bot.listeners.commands.caller import caller_command
from bot.listeners.events.app_home import app_home_opened
from bot.listeners.shortcuts.lookup_message import lookup_message
from bot.listeners.views.correction import correction_submitted
from bot.services import build_services, services_from
from bot.standin.payloads import view_submission
from nextcaller_ops.api.phone import parse
from tests.support.botkit import AGENT, TRIAGE, bot_settings, sandbox_client
from tests.support.common import SEINFELD_ID

SEINFELD_BUTTON = json.dumps({"id": SEINFELD_ID, "phone": "2125558383"})


@pytest.fixture
def make_services(sandbox, tmp_path):
    made = []

    def make(**overrides: Any):
        client = sandbox_client(sandbox)
        services = build_services(bot_settings(tmp_path / "bot", **overrides), client, web=Mock(spec=WebClient))
        made.append((services, client))
        return services

    yield make
    for services, client in made:
        services.close()
        client.close()


@pytest.fixture
def services(make_services):
    return make_services()


@pytest.fixture
def slack(sandbox):
    parent = Mock()
    parent.attach_mock(Mock(spec=WebClient), "client")
    # What the API had been asked when each ack went out: acking first means before any lookup.
    parent.requests_at_ack = []
    parent.ack.side_effect = lambda *a, **kw: parent.requests_at_ack.append(sandbox.httpd.request_count)
    return parent


def names(slack: Mock) -> list[str]:
    """What the listener did, in order: ack, respond, client.chat_postMessage, ..."""
    return [c[0] for c in slack.mock_calls]


def kwargs_of(slack: Mock, name: str) -> list[dict[str, Any]]:
    return [c.kwargs for c in slack.mock_calls if c[0] == name]


def command(text: str, *, user: str = AGENT, channel: str = TRIAGE) -> dict[str, Any]:
    return {"command": "/caller", "text": text, "user_id": user, "channel_id": channel}


def button(value: str, *, user: str = AGENT, channel: str = TRIAGE) -> dict[str, Any]:
    return {
        "user": {"id": user},
        "channel": {"id": channel},
        "trigger_id": "trig.1",
        "actions": [{"action_id": "x", "value": value}],
    }


def run_command(services, slack, text: str, **kw: Any) -> None:
    caller_command(ack=slack.ack, command=command(text, **kw), respond=slack.respond, context={"services": services})


# -- /caller ------------------------------------------------------------------------------


def test_caller_acks_then_responds_with_the_private_card(services, slack):
    run_command(services, slack, "(212) 555-8383")
    assert names(slack) == ["ack", "respond"]
    assert slack.ack.call_args == call() and slack.requests_at_ack == [0]
    (card,) = kwargs_of(slack, "respond")
    assert card["response_type"] == "ephemeral"
    assert card["blocks"][0]["text"]["text"] == "Jerry Seinfeld"
    assert card["text"] == "Caller 2125558383: Jerry Seinfeld"
    (entry,) = services.audit.entries()
    assert (entry["user_id"], entry["channel_id"], entry["phone"], entry["outcome"]) == (
        AGENT,
        TRIAGE,
        "2125558383",
        "found 1",
    )


@pytest.mark.parametrize("text", ["", "help", "?"])
def test_caller_usage_is_the_ack_itself(services, slack, sandbox, text):
    run_command(services, slack, text)
    assert names(slack) == ["ack"]
    assert slack.ack.call_args.kwargs["text"] == messages.USAGE
    assert sandbox.httpd.request_count == 0


def test_caller_bad_number_is_refused_in_the_ack_without_a_request(services, slack, sandbox):
    run_command(services, slack, "555-12")
    assert names(slack) == ["ack"]
    text = slack.ack.call_args.kwargs["text"]
    assert text.startswith("Not a phone number") and "10-digit US number" in text
    assert sandbox.httpd.request_count == 0 and services.audit.entries() == []


def test_caller_no_record_is_the_core_sentence(services, slack):
    run_command(services, slack, "202-555-0999")
    (answer,) = kwargs_of(slack, "respond")
    assert answer["text"] == "No record for (202) 555-0999."


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, 1049, "isn't configured correctly right now"),
        (403, 8643, "isn't configured correctly right now"),
        (429, 1061, "is busy"),
        (500, None, "isn't answering right now"),
    ],
)
def test_caller_api_errors_are_one_sentence_by_kind(services, slack, sandbox, status, code, words):
    sandbox.inject(status, code=code, count=5)  # retried ones too
    run_command(services, slack, "2125558383")
    assert names(slack) == ["ack", "respond"]
    (answer,) = kwargs_of(slack, "respond")
    assert words in answer["text"] and "[" not in answer["text"]
    assert services.audit.entries()[-1]["outcome"] == "error"


# -- the card's buttons ---------------------------------------------------------------------


def test_refresh_acks_then_replaces_the_card_past_the_cache(services, slack, sandbox):
    services.client.lookup(parse("2125558383"))
    before = sandbox.httpd.request_count
    refresh_card(ack=slack.ack, body=button(SEINFELD_BUTTON), respond=slack.respond, context={"services": services})
    assert names(slack) == ["ack", "respond"] and slack.requests_at_ack == [before]
    (answer,) = kwargs_of(slack, "respond")
    assert answer["replace_original"] is True and answer["blocks"][0]["text"]["text"] == "Jerry Seinfeld"
    assert sandbox.httpd.request_count == before + 1
    assert services.audit.entries()[-1]["action"] == "refresh"


@pytest.mark.parametrize("value", ["not json", json.dumps({"id": SEINFELD_ID, "phone": "12"}), json.dumps({})])
def test_a_forged_button_value_is_acked_and_goes_no_further(services, slack, sandbox, value):
    for listener in (refresh_card, open_correction_modal):
        kwargs: dict[str, Any] = {"ack": slack.ack, "body": button(value), "respond": slack.respond}
        if listener is open_correction_modal:
            kwargs["client"] = slack.client
        listener(**kwargs, context={"services": services})
    share_card(
        ack=slack.ack, body=button(value), respond=slack.respond, client=slack.client, context={"services": services}
    )
    assert names(slack) == ["ack", "ack", "ack"]
    assert sandbox.httpd.request_count == 0


def test_share_posts_a_redacted_card_and_confirms_privately(services, slack):
    share_card(
        ack=slack.ack,
        body=button(SEINFELD_BUTTON),
        respond=slack.respond,
        client=slack.client,
        context={"services": services},
    )
    assert names(slack) == ["ack", "client.chat_postMessage", "respond"] and slack.requests_at_ack == [0]
    (post,) = kwargs_of(slack, "client.chat_postMessage")
    shared = json.dumps(post["blocks"])
    assert post["channel"] == TRIAGE and post["text"] == "Caller 212***8383: Jerry Seinfeld"
    assert "demo@nextcaller.com" not in shared and "street hidden" in shared and f"<@{AGENT}>" in shared
    assert kwargs_of(slack, "respond") == [
        {"response_type": "ephemeral", "replace_original": False, "text": messages.shared(True)}
    ]
    assert services.audit.entries()[-1]["outcome"] == "redacted"


def test_share_in_a_cleared_channel_keeps_email_and_street(make_services, slack):
    services = make_services(pii_channels=frozenset({TRIAGE}))
    share_card(
        ack=slack.ack,
        body=button(SEINFELD_BUTTON),
        respond=slack.respond,
        client=slack.client,
        context={"services": services},
    )
    (post,) = kwargs_of(slack, "client.chat_postMessage")
    assert "demo@nextcaller.com" in json.dumps(post["blocks"])
    assert kwargs_of(slack, "respond")[0]["text"] == "Shared in the channel."


def test_suggest_opens_the_prefilled_modal(services, slack):
    open_correction_modal(
        ack=slack.ack,
        body=button(SEINFELD_BUTTON),
        client=slack.client,
        respond=slack.respond,
        context={"services": services},
    )
    assert names(slack) == ["ack", "client.views_open"] and slack.requests_at_ack == [0]
    (opened,) = kwargs_of(slack, "client.views_open")
    assert opened["trigger_id"] == "trig.1" and opened["view"]["callback_id"] == modal.CORRECTION_CALLBACK
    assert json.loads(opened["view"]["private_metadata"])["channel"] == TRIAGE


def test_suggest_for_a_record_that_is_gone_says_to_refresh(services, slack):
    gone = json.dumps({"id": "0" * 30, "phone": "2125558383"})
    open_correction_modal(
        ack=slack.ack, body=button(gone), client=slack.client, respond=slack.respond, context={"services": services}
    )
    assert names(slack) == ["ack", "respond"]
    assert kwargs_of(slack, "respond")[0]["text"] == messages.RECORD_CHANGED


# -- the correction modal's submission ----------------------------------------------------------


def modal_view(services, view_id: str = "V0MODAL0001", **changes: str) -> dict[str, Any]:
    result = services.client.lookup(parse("2125558383"))
    view = modal.correction_modal(result.profiles[0], "2125558383", TRIAGE)
    values = {modal.field_block_id(name.replace("__", ".")): value for name, value in changes.items()}
    return view_submission(view, values, view_id=view_id)["view"]


def submit(services, slack, view: dict[str, Any]) -> None:
    correction_submitted(
        ack=slack.ack, body={"user": {"id": AGENT}}, view=view, client=slack.client, context={"services": services}
    )


def test_a_change_is_stored_then_acked_then_sent_and_the_agent_told(services, slack, sandbox):
    view = modal_view(services, email="jerry@example.com")
    at_ack: list[tuple[int, int]] = []
    slack.ack.side_effect = lambda *a, **kw: at_ack.append(
        (services.outbox.counts()["pending"], len(sandbox.store.corrections()))
    )
    submit(services, slack, view)
    assert names(slack) == ["ack", "client.chat_postEphemeral"]
    assert slack.ack.call_args == call()
    assert at_ack == [(1, 0)]  # durable before the ack, sent after it
    (note,) = kwargs_of(slack, "client.chat_postEphemeral")
    assert note["channel"] == TRIAGE and note["user"] == AGENT
    assert note["text"] == messages.correction_sent(SEINFELD_ID, {"email": "jerry@example.com"})
    assert sandbox.store.corrections(SEINFELD_ID)[-1]["body"] == {"email": "jerry@example.com"}
    assert services.outbox.counts() == {"pending": 0, "delivered": 1, "rejected": 0}


def test_field_problems_go_back_in_the_ack_and_nothing_is_stored(services, slack, sandbox):
    submit(services, slack, modal_view(services, email="nope", shipping_address1__zip_code="1"))
    assert names(slack) == ["ack"]
    ack = slack.ack.call_args.kwargs
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {modal.field_block_id("email"), modal.field_block_id("shipping_address1.zip_code")}
    assert all(text[0].isupper() for text in ack["errors"].values())
    assert services.outbox.counts()["pending"] == 0 and not sandbox.store.corrections()


def test_nothing_changed_sends_nothing(services, slack, sandbox):
    submit(services, slack, modal_view(services))
    assert names(slack) == ["ack", "client.chat_postEphemeral"]
    assert kwargs_of(slack, "client.chat_postEphemeral")[0]["text"] == messages.NOTHING_CHANGED
    assert not sandbox.store.corrections()


def test_a_damaged_form_says_so_on_a_field(services, slack):
    view = {**modal_view(services, first_name="Jerome"), "private_metadata": "{not json"}
    submit(services, slack, view)
    assert names(slack) == ["ack"]
    assert slack.ack.call_args.kwargs["errors"] == {modal.field_block_id("first_name"): messages.FORM_DAMAGED}


def test_the_same_submission_twice_is_handled_once(services, slack, sandbox):
    view = modal_view(services, first_name="Jerome")
    submit(services, slack, view)
    submit(services, slack, view)
    assert names(slack) == ["ack", "client.chat_postEphemeral", "ack"]
    assert len(sandbox.store.corrections(SEINFELD_ID)) == 1


def test_api_down_the_correction_waits_in_the_outbox(services, slack, sandbox):
    view = modal_view(services, last_name="Seinfield")
    sandbox.fail_rate = 1.0
    submit(services, slack, view)
    assert names(slack) == ["ack", "client.chat_postEphemeral"]
    assert "saved and will be delivered automatically" in kwargs_of(slack, "client.chat_postEphemeral")[0]["text"]
    assert services.outbox.counts()["pending"] == 1 and not sandbox.store.corrections()


def test_a_big_record_sends_only_the_field_that_was_changed(services, slack, sandbox):
    # issue 11 #2: a 400-character street is prefilled cut to 200; changing only the email must not
    # "correct" the street to its first 200 characters (nor send every field when the metadata is big)
    from dataclasses import replace

    from nextcaller_ops.api.models import Address

    jerry = services.client.lookup(parse("2125558383")).profiles[0]
    street = Address(line1="Broadway " * 45, city="New York", state="NY", zip_code="10024")
    big = replace(jerry, addresses=(street,), email="e" * 240 + "@example.com", first_name="F" * 150)
    view = modal.correction_modal(big, "2125558383", TRIAGE)
    assert len(view["private_metadata"]) <= 3000
    typed = {modal.field_block_id("email"): "jerry@example.com"}
    submit(services, slack, view_submission(view, typed, view_id="V0BIGRECORD")["view"])
    assert sandbox.store.corrections(SEINFELD_ID)[-1]["body"] == {"email": "jerry@example.com"}


def test_text_that_is_not_valid_unicode_is_refused_on_its_field(services, slack, sandbox):
    submit(services, slack, modal_view(services, first_name="Jos\udce9", last_name="Seinfeld"))
    ack = slack.ack.call_args.kwargs
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [modal.field_block_id("first_name")]
    assert ack["errors"][modal.field_block_id("first_name")].startswith("Is not valid Unicode text")
    assert services.outbox.counts()["pending"] == 0 and not sandbox.store.corrections()


def test_when_the_bot_cannot_post_in_the_channel_the_agent_gets_a_dm(services, slack):
    slack.client.chat_postEphemeral.side_effect = RuntimeError("not_in_channel")
    submit(services, slack, modal_view(services, first_name="Jerome"))
    assert names(slack) == ["ack", "client.chat_postEphemeral", "client.chat_postMessage"]
    assert kwargs_of(slack, "client.chat_postMessage")[0]["channel"] == AGENT


# -- the message shortcut and App Home ------------------------------------------------------------


def shortcut(text: str) -> dict[str, Any]:
    return {"user": {"id": AGENT}, "channel": {"id": TRIAGE}, "message": {"text": text}}


def test_shortcut_answers_once_per_number_after_the_ack(services, slack):
    lookup_message(
        ack=slack.ack,
        shortcut=shortcut("Missed (212) 555-8383, then 312.555.0142"),
        respond=slack.respond,
        context={"services": services},
    )
    assert names(slack) == ["ack", "respond", "respond"] and slack.requests_at_ack == [0]
    headers = [b["text"]["text"] for a in kwargs_of(slack, "respond") for b in a["blocks"] if b["type"] == "header"]
    assert headers == ["Jerry Seinfeld", "Alex Rivera", "Sam Rivera"]


def test_shortcut_without_a_number(services, slack, sandbox):
    lookup_message(ack=slack.ack, shortcut=shortcut("call me"), respond=slack.respond, context={"services": services})
    assert names(slack) == ["ack", "respond"]
    assert kwargs_of(slack, "respond")[0]["text"] == messages.NO_NUMBER_IN_MESSAGE
    assert sandbox.httpd.request_count == 0


def test_shortcut_looks_up_five_numbers_at_most(services, slack):
    text = " ".join(f"212-555-{1000 + i}" for i in range(7))
    lookup_message(ack=slack.ack, shortcut=shortcut(text), respond=slack.respond, context={"services": services})
    assert names(slack) == ["ack"] + ["respond"] * 6
    assert kwargs_of(slack, "respond")[-1]["text"] == messages.numbers_not_looked_up(2)
    assert len(services.audit.entries()) == 5


def test_app_home_publishes_status_and_recent_lookups(services, slack):
    run_command(services, Mock(), "2125558383")
    event = {"type": "app_home_opened", "user": AGENT, "tab": "home"}
    app_home_opened(event=event, client=slack.client, context={"services": services})
    assert names(slack) == ["client.views_publish"]
    (published,) = kwargs_of(slack, "client.views_publish")
    text = json.dumps(published["view"], ensure_ascii=False)
    assert published["user_id"] == AGENT
    assert "✅ reachable" in text and "212***8383" in text and "2125558383" not in text


def test_app_home_ignores_the_messages_tab(services, slack):
    app_home_opened(
        event={"type": "app_home_opened", "user": AGENT, "tab": "messages"},
        client=slack.client,
        context={"services": services},
    )
    assert names(slack) == []


def test_services_come_only_from_the_context():
    with pytest.raises(RuntimeError, match="build_app"):
        services_from({})
