"""The gate once (issue 21): the per-user lookup limit is the global middleware's, for every request
that will look something up, so no listener asks for it and none can forget it.

Over signed HTTP to the running bot (the local fake Slack, the sandbox), and on a bare Bolt app
carrying only the gate and a throwaway listener: a listener registered for a lookup gets the
limit without calling anything.
"""

from __future__ import annotations

import ast
import inspect
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import App

from bot import blocks as bk
from bot import gate, messages, modal
from bot.listeners import actions, commands, shortcuts, views
from bot.services import build_services
from bot.standin.payloads import block_actions, command_body, interaction_body
from bot.triage import cards
from tests.bot.test_scenarios import signed
from tests.support.botkit import TRIAGE, bot_settings, sandbox_client
from tests.support.common import SEINFELD_ID

pytestmark = pytest.mark.timeout(120)

JERRY, RIVERA, NOBODY = "2125558383", "3125550142", "2025550999"
JERRY_BUTTON = json.dumps({"id": SEINFELD_ID, "phone": JERRY})
OVER = "You've reached 1 lookups a minute. Try again in "


def _rate_rows(bot) -> list[tuple[Any, ...]]:
    return [(e["action"], e["phone"]) for e in bot.services.audit.entries() if e["outcome"] == "refused: rate limit"]


# -- a listener nobody told about the limit -------------------------------------------------------


@pytest.fixture
def bare(sandbox, slack, tmp_path):
    """A Bolt app with the services, the gate and nothing else; the test registers its own listeners."""
    settings = bot_settings(tmp_path / "bare", slack.api_url, lookups_per_minute=1)
    client = sandbox_client(sandbox)
    services = build_services(settings, client)
    executor = ThreadPoolExecutor(max_workers=4)
    app = App(signing_secret=settings.signing_secret, client=services.web, token_verification_enabled=False)

    def provide(context, next_):
        context["services"] = services
        next_()

    app.use(provide)
    app.use(gate.policy_gate(executor))
    yield app, services
    executor.shutdown(wait=True)
    services.close()
    client.close()


def test_a_new_lookup_listener_gets_the_limit_without_asking_for_it(bare, slack):
    app, services = bare
    ran: list[str] = []
    done = threading.Event()

    def throwaway(ack, body):  # looks the number up, and knows nothing of limits
        ack()
        ran.append(body.get("text") or body["actions"][0]["action_id"])
        done.set()

    app.command("/caller")(throwaway)
    app.action(cards.ACTION_FULL_CARD)(throwaway)
    first = app.dispatch(signed(command_body(JERRY, response_url=slack.response_url("c1"))))
    assert first.status == 200 and done.wait(30)
    refused = app.dispatch(signed(command_body(JERRY, response_url=slack.response_url("c2"))))
    assert refused.status == 200 and json.loads(refused.body)["text"].startswith(OVER)  # in the ack
    press = block_actions(
        cards.ACTION_FULL_CARD,
        json.dumps({"c": TRIAGE, "t": "1.1", "phone": RIVERA}),
        response_url=slack.response_url("b1"),
    )
    assert app.dispatch(signed(interaction_body(press))).status == 200
    (told,) = [c["args"] for c in slack.wait_for(lambda cs: any(c["name"] == "b1" for c in cs)) if c["name"] == "b1"]
    assert told["text"].startswith(OVER) and told["response_type"] == "ephemeral"
    assert ran == [JERRY]  # the refused ones never reached the listener
    rows = [(e["action"], e["phone"], e["outcome"]) for e in services.audit.entries()]
    assert rows == [("lookup", JERRY, "refused: rate limit"), ("triage_card", RIVERA, "refused: rate limit")]


def _registered(module) -> dict[str, Any]:
    """What ``module.register(app)`` registers: action id / callback id / command -> listener."""
    seen: dict[str, Any] = {}

    class Recorder:
        def _on(self, key: Any):
            return lambda listener: seen.setdefault(str(key), listener)

        action = shortcut = command = view = _on

    module.register(Recorder())
    return seen


def _looks_up(listener) -> bool:
    """Whether the listener's own code asks the API (a lookup, an email lookup, a fraud check, triage's)."""
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(inspect.getsource(listener)))
        if isinstance(node, ast.Call)
    }
    return bool(calls & {"lookup_answer", "email_answer", "fraud_answer", "lookup", "look_up_now"})


def test_every_button_that_looks_a_number_up_is_in_the_gates_table():
    buttons = _registered(actions)
    lookups = {action_id for action_id, listener in buttons.items() if _looks_up(listener)}
    assert lookups == set(gate.LOOKUP_BUTTONS)
    assert lookups >= {bk.ACTION_REFRESH, bk.ACTION_FRAUD, bk.ACTION_SHARE, bk.ACTION_SUGGEST}
    assert lookups >= {cards.ACTION_FULL_CARD, cards.ACTION_LOOKUP}
    assert set(_registered(shortcuts)) == {bk.SHORTCUT_CALLBACK}  # the one shortcut: counted per number
    assert set(_registered(commands)) == {"/caller"}
    forms = {callback for callback, listener in _registered(views).items() if _looks_up(listener)}
    assert forms == {modal.VERIFY_CALLBACK}  # read by gate.lookups from the submission


# -- through the running bot ----------------------------------------------------------------------


@pytest.mark.parametrize(("action_id", "audited_as"), [(bk.ACTION_REFRESH, "refresh")])
def test_a_card_button_over_the_limit_is_refused_privately_before_its_listener(
    make_bot, slack, sandbox, action_id, audited_as
):
    bot = make_bot(lookups_per_minute=1)
    card = bot.card(JERRY)
    value = next(
        e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    requests = sandbox.httpd.request_count
    resp, name = bot.click(action_id, value)
    assert resp.status_code == 200
    (told,) = bot.responses(name)
    assert told["text"].startswith(OVER) and told["replace_original"] is False
    bot.drain()
    assert sandbox.httpd.request_count == requests
    assert _rate_rows(bot) == [(audited_as, JERRY)]


def test_the_shortcut_counts_each_number_and_looks_up_only_those_within_the_limit(make_bot, sandbox):
    bot = make_bot(lookups_per_minute=2)
    resp, name = bot.shortcut(f"call {JERRY}, then {RIVERA}, then {NOBODY}")
    assert resp.status_code == 200
    answers = bot.responses(name, count=3)
    assert [a["text"].startswith("You've reached 2 lookups a minute") for a in answers] == [False, False, True]
    resp, name = bot.shortcut(f"and {RIVERA} again")  # every number over: one private answer, nothing after
    (told,) = bot.responses(name)
    assert told["text"].startswith("You've reached 2 lookups a minute") and told["response_type"] == "ephemeral"
    bot.drain()
    assert not bot.slack.calls("response", name)[1:]
    assert sandbox.httpd.request_count == 2
    assert _rate_rows(bot) == [("lookup", NOBODY), ("lookup", RIVERA)]


def test_what_is_not_a_valid_number_costs_nothing(make_bot, sandbox):
    bot = make_bot(lookups_per_minute=1)
    for text in ("555-12", "help", "watch", "jerry@example.com", "triage", "212555838x"):
        bot.command(text)
    for value in ("not json", json.dumps({"phone": "555-12"}), json.dumps(["2125558383"])):
        bot.click(bk.ACTION_REFRESH, value)
    bot.shortcut("no number here")
    assert bot.card(JERRY)["blocks"][0]["text"]["text"] == "Jerry Seinfeld"  # the minute's one lookup is still there
    bot.drain()
    assert _rate_rows(bot) == [] and sandbox.httpd.request_count == 1


def test_share_of_the_card_just_shown_costs_nothing_but_a_forged_number_is_counted(make_bot, sandbox):
    bot = make_bot(lookups_per_minute=1)
    bot.card(JERRY)
    _, name = bot.click(bk.ACTION_SHARE, JERRY_BUTTON)  # cached: free, shared
    assert bot.responses(name)[0]["text"] == messages.shared(True)
    _, name = bot.click(bk.ACTION_SHARE, json.dumps({"id": "x" * 30, "phone": RIVERA}))
    assert bot.responses(name)[0]["text"].startswith(OVER)
    bot.drain()
    assert _rate_rows(bot) == [("share", RIVERA)]


def test_a_verify_form_over_the_limit_is_refused_on_the_form_and_a_malformed_one_costs_nothing(
    make_bot, slack, sandbox
):
    bot = make_bot(lookups_per_minute=1)
    card = bot.card(JERRY)
    value = next(
        e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == bk.ACTION_VERIFY
    )
    bot.click(bk.ACTION_VERIFY, value)
    calls = slack.wait_for(lambda cs: any(c["name"] == "views.open" for c in cs))
    view = next(c for c in calls if c["name"] == "views.open")["args"]["view"]
    requests = sandbox.httpd.request_count
    bad_zip = bot.submit(view, {"v_name": "Jerry Seinfeld", "v_zip": "1002", "v_email": "", "v_street": ""}).json()
    assert bad_zip["response_action"] == "errors" and not bad_zip["errors"]["v_zip"].startswith("You've reached")
    over = bot.submit(view, {"v_name": "Jerry Seinfeld", "v_zip": "10024", "v_email": "", "v_street": ""}).json()
    assert over["response_action"] == "errors" and over["errors"]["v_name"].startswith(OVER)
    bot.drain()
    assert sandbox.httpd.request_count == requests and not slack.calls("api", "chat.postEphemeral")
    assert _rate_rows(bot) == [("verify", JERRY)]
