"""One auditor: the client audits every call it makes, and the bot says who asked and where.

Through signed HTTP each of the bot's lookups is exactly one row (the client's, not a copy
the listener wrote too) naming the agent and the channel where they asked; the bot's words
(``found N`` / ``no record`` / ``error`` with the error's name and code) are kept; reads a
listener audits with its own row (Share, Suggest correction) add none; a correction the
outbox delivers on its own thread is audited as the agent who submitted it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from bot import blocks as bk
from nextcaller_ops import errors
from nextcaller_ops.audit import asking, current_asker, store_auditor
from nextcaller_ops.client.auditing import Failure
from nextcaller_ops.stores.sqlite import SqliteAuditStore
from tests.support.botkit import AGENT, TRIAGE

ELSEWHERE, COLLEAGUE = "C0ELSEWHERE", "U0COLLEAGUE"


def _rows(bot) -> list[tuple[Any, ...]]:
    return [
        (e["user_id"], e["channel_id"], e["action"], e["phone"], e["outcome"], e["detail"])
        for e in bot.services.audit.entries()
    ]


def _button(card: dict[str, Any], action_id: str) -> str:
    return next(
        e["value"]
        for b in card["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def test_each_lookup_over_signed_http_is_one_row_naming_who_asked_where(bot, sandbox):
    card = bot.card("2125558383")
    resp, name = bot.click(bk.ACTION_REFRESH, _button(card, bk.ACTION_REFRESH), user=COLLEAGUE, channel=ELSEWHERE)
    assert resp.status_code == 200
    bot.responses(name)
    bot.card("2025550999", channel=ELSEWHERE)
    resp, name = bot.shortcut("call back 312.555.0142", user=COLLEAGUE)
    bot.responses(name)
    sandbox.inject(401, code=1049)
    bot.card("3105550000")
    bot.drain()
    assert _rows(bot) == [
        (AGENT, TRIAGE, "lookup", "2125558383", "found 1", ""),
        (COLLEAGUE, ELSEWHERE, "refresh", "2125558383", "found 1", ""),
        (AGENT, ELSEWHERE, "lookup", "2025550999", "no record", ""),
        (COLLEAGUE, TRIAGE, "lookup", "3125550142", "found 2", ""),
        (AGENT, TRIAGE, "lookup", "3105550000", "error", "ExpiredConsumerKeyError 1049"),
    ]


def test_share_adds_only_its_own_row(bot, slack):
    card = bot.card("2125558383")
    resp, name = bot.click(bk.ACTION_SHARE, _button(card, bk.ACTION_SHARE))
    assert resp.status_code == 200
    bot.responses(name)
    bot.drain()
    assert [(r[0], r[2], r[4]) for r in _rows(bot)] == [(AGENT, "lookup", "found 1"), (AGENT, "share", "redacted")]


def test_a_correction_the_outbox_delivers_is_audited_as_the_agent_who_submitted_it(bot, sandbox):
    row, _ = bot.services.outbox.submit(
        "97d949a413f4ea8b85e9586e1f2d9a", {"first_name": "Jerome"}, user_id=AGENT, channel_id=ELSEWHERE
    )
    bot.services.outbox.attempt(row.id)
    assert _rows(bot) == [(AGENT, ELSEWHERE, "correction", None, "sent", "97d949a413f4ea8b85e9586e1f2d9a: first_name")]


# -- the auditor itself ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    audit = SqliteAuditStore(tmp_path / "audit.sqlite3")
    yield audit
    audit.close()


def _entries(store) -> list[tuple[Any, ...]]:
    return [
        (e["user_id"], e["channel_id"], e["action"], e["phone"], e["outcome"], e["detail"]) for e in store.entries()
    ]


def test_store_auditor_names_the_asker_of_each_thread_and_words_errors_as_the_bot_does(store):
    hook = store_auditor(store, default_user="U0NOBODY", default_channel="C0NOWHERE")
    hook("lookup", "2125558383", "found 1", "cached")  # outside any asker: the defaults
    with asking(user_id=AGENT, channel_id=TRIAGE, action="refresh"):
        hook("lookup", "2125558383", "no record")
        hook("lookup", "2125558383", Failure(errors.AuthError("no", code="1049")))

        def elsewhere() -> None:  # a context variable does not cross threads: this thread sets its own
            assert current_asker() is None
            with asking(user_id=COLLEAGUE, channel_id=ELSEWHERE):
                hook("fraud", "3125550142", "risk high")

        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        with asking(user_id=AGENT, channel_id=TRIAGE, audited=False):
            hook("lookup", "2125558383", "found 1")  # the surface writes its own row for this one
        hook("lookup_email", None, "found 1", "email=demo@nextcaller.com")
    with asking(user_id=AGENT, channel_id=TRIAGE, action="lookup_email", detail="demo@nextcaller.com"):
        hook("lookup_email", None, "found 1", "email=demo@nextcaller.com; cached")
    assert current_asker() is None
    assert _entries(store) == [
        ("U0NOBODY", "C0NOWHERE", "lookup", "2125558383", "found 1", "cached"),
        (AGENT, TRIAGE, "refresh", "2125558383", "no record", ""),
        (AGENT, TRIAGE, "refresh", "2125558383", "error", "AuthError 1049"),
        (COLLEAGUE, ELSEWHERE, "fraud", "3125550142", "risk high", ""),
        (AGENT, TRIAGE, "refresh", None, "found 1", "email=demo@nextcaller.com"),
        (AGENT, TRIAGE, "lookup_email", None, "found 1", "demo@nextcaller.com"),
    ]


def test_the_clients_auditor_is_set_once_after_it_is_built(sandbox):
    from tests.support.botkit import sandbox_client

    seen: list[tuple[Any, ...]] = []
    with sandbox_client(sandbox) as client:
        client.lookup("2125558383")  # nobody listening yet
        client.auditor = lambda *a: seen.append(a)
        client.lookup("2125558383")
        with pytest.raises(errors.InvalidProfileIdError):
            client.update_profile("f" * 30, {"email": "a@b.co"})
        client.auditor = None  # back to nobody
        client.lookup("2025550999")
    assert seen[0] == ("lookup", "2125558383", "found 1", "cached")
    assert seen[1][:3] == ("correction", None, "error: InvalidProfileIdError")
    assert isinstance(seen[1][2], Failure) and isinstance(seen[1][2].error, errors.InvalidProfileIdError)
    assert len(seen) == 2
