"""``/caller forget`` (issue 23): admins only, confirmed by a signed button press, everything the bot
keeps about the person removed; the triage reply edited to one line and the agent of a cancelled
correction told by the bot's workers.  On the embedded SQLite stores and on PostgreSQL + Redis."""

from __future__ import annotations

import json
import time

import pytest

from bot.listeners.commands.forget import ACTION_FORGET, ACTION_FORGET_CANCEL
from bot.standin.payloads import message_event
from tests.core.test_forget import (
    NUMBER,
    OTHER,
    leftovers,
    postgres_texts,
    redis_texts,
    sqlite_texts,
    webhook_leftovers,
)
from tests.support.botkit import AGENT, TRIAGE
from tests.support.common import PATIENCE, run_cli
from tests.support.secrets import WEBHOOK_SECRET

ADMIN = "U0ADMIN0001"


@pytest.fixture(params=["sqlite", "shared"])
def forgetful_bot(request, make_bot, api_env, monkeypatch, tmp_path):
    """A bot with an admin and a watched channel, sharing its data dir (or servers) with the CLI and notebooks."""
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_KEY", "a-test-key-for-the-audit-log-hmac")
    # outgoing webhooks with full numbers (the worker is not started: the events stay queued)
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_PII", "1")
    overrides = {
        "admins": frozenset({ADMIN}),
        "watch_channels": frozenset({TRIAGE}),
        "data_dir": tmp_path / "data",  # the CLI's and the notebook's too (NEXTCALLER_OPS_DATA_DIR)
    }
    texts = [lambda: sqlite_texts(tmp_path / "data")]
    if request.param == "shared":
        pg_schema = request.getfixturevalue("pg_schema")
        redis_space = request.getfixturevalue("redis_space")
        monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", redis_space.url)
        monkeypatch.setenv("NEXTCALLER_OPS_REDIS_PREFIX", redis_space.prefix)
        monkeypatch.setenv("NEXTCALLER_OPS_DATABASE_URL", pg_schema.url)
        overrides.update(database_url=pg_schema.url, redis_url=redis_space.url, redis_prefix=redis_space.prefix)
        texts.append(lambda: postgres_texts(pg_schema) + redis_texts(redis_space))
    bot = make_bot(**overrides)
    bot.kind = request.param  # type: ignore[attr-defined]
    bot.texts = lambda: [t for f in texts for t in f()]  # type: ignore[attr-defined]
    return bot


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {PATIENCE} s for {what}")
        time.sleep(0.05)


def _notebook():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    return shell


def test_an_admin_forgets_a_number_everywhere_the_bot_keeps_it(forgetful_bot, slack, sandbox):
    bot = forgetful_bot
    # the CLI (another process) and a notebook (this process) look the number up too
    cli = run_cli("lookup", "212-555-8383")
    assert cli.returncode == 0, cli.stderr
    shell = _notebook()
    try:
        assert shell.run_cell("%nextcaller +1 (212) 555-8383", store_history=False).result is not None
        _test_the_forget(bot, slack, sandbox, shell)
    finally:
        shell.run_line_magic("unload_ext", "nextcaller_ops")
        type(shell).clear_instance()


def _test_the_forget(bot, slack, sandbox, shell) -> None:
    card = bot.card("(212) 555-8383")  # /caller, signed HTTP
    assert "Seinfeld" in card["text"] or "Seinfeld" in json.dumps(card.get("blocks"))
    bot.card(OTHER)
    # a watched message with the number gets its threaded reply
    assert bot.event(message_event(TRIAGE, "caller on +1 212-555-8383", "1700000000.000100", user=AGENT)).ok
    store = bot.services.stores.triage
    _wait(lambda: (i := store.get(TRIAGE, "1700000000.000100")) is not None and i.reply_ts, "the triage reply")
    reply_ts = store.get(TRIAGE, "1700000000.000100").reply_ts
    # a correction waiting for the API (due in an hour), submitted by another agent
    record_id = bot.client.lookup(NUMBER).profiles[0].id
    bot.services.stores.outbox.submit(
        record_id, {"email": "new@example.com"}, now=time.time(), user_id="U0AGENT003", due=time.time() + 3600
    )
    email, name = "demo@nextcaller.com", "Jerry Seinfeld"
    assert leftovers(bot.texts(), [email, name])
    # the webhook outbox holds the /caller lookup and the triage item, each with the full number
    _wait(lambda: len(webhook_leftovers(bot.texts(), [email, name])) >= 2, "the queued webhook events")

    # not an admin: refused, nothing removed
    resp, _ = bot.command(f"forget {NUMBER}", user=AGENT)
    assert resp.status_code == 200 and "Only an admin" in resp.text
    assert leftovers(bot.texts(), [email, name])

    # an admin is asked first (the Forget button has Slack's confirmation dialog)
    resp, _ = bot.command("forget 212.555.8383", user=ADMIN)
    asked = resp.json()
    buttons = [e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"]]
    forget_button = next(e for e in buttons if e["action_id"] == ACTION_FORGET)
    assert forget_button["confirm"] and any(e["action_id"] == ACTION_FORGET_CANCEL for e in buttons)
    assert leftovers(bot.texts(), [email, name])  # asking removed nothing

    # someone else pressing the button (a forged press) is refused too
    resp, pressed = bot.click(ACTION_FORGET, forget_button["value"], user=AGENT)
    assert resp.status_code == 200
    assert "Only an admin" in bot.responses(pressed)[0]["text"]

    resp, pressed = bot.click(ACTION_FORGET, forget_button["value"], user=ADMIN)
    assert resp.status_code == 200
    done = bot.responses(pressed)[0]
    assert done["text"].startswith("Forgot *212***8383*")
    bot.services.outbox.start()
    bot.services.triage_worker.start()

    # the bot's workers (as `bot` starts them): the reply in Slack becomes one line, the agent of the cancelled correction is told
    slack.wait_for(
        lambda cs: any(
            c["name"] == "chat.update" and c["args"].get("ts") == reply_ts and "Removed on request" in c["args"]["text"]
            for c in cs
        )
    )
    slack.wait_for(
        lambda cs: any(
            c["name"] == "chat.postMessage"
            and c["args"].get("channel") == "U0AGENT003"
            and "cancelled" in c["args"].get("text", "")
            for c in cs
        )
    )
    _wait(lambda: not store.redactions() and not bot.services.stores.outbox.cancelled(), "the jobs to be done")

    assert leftovers(bot.texts(), [email, name]) == []
    assert webhook_leftovers(bot.texts(), [email, name, record_id]) == []
    assert bot.services.stores.webhooks.counts()["pending"] >= 1  # the other number's lookup, still to be sent
    assert bot.services.stores.audit.entries(phone=OTHER)  # another number's rows are untouched

    # the next lookup goes to the API: in the notebook (whose cache the forget reached), and in the bot
    # (whose cache it reached too; with Redis the notebook's answer is the bot's, shared)
    before = sandbox.httpd.request_count
    assert shell.run_cell(f"%nextcaller {NUMBER}", store_history=False).result is not None
    assert sandbox.httpd.request_count == before + 1
    bot.card(NUMBER)
    assert sandbox.httpd.request_count == before + (1 if bot.kind == "shared" else 2)


def test_cancel_forgets_nothing(forgetful_bot):
    bot = forgetful_bot
    bot.card(NUMBER)
    resp, pressed = bot.click(ACTION_FORGET_CANCEL, "", user=ADMIN)
    assert resp.status_code == 200 and bot.responses(pressed)[0]["text"] == "Nothing was forgotten."
    assert bot.services.stores.audit.entries(phone=NUMBER)
