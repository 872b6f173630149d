"""Two real bot processes (``nextcaller-ops bot --http``) sharing PostgreSQL and Redis act as one bot
(lookups, duplicate deliveries, triage replies, the per-user limit, a process killed).

The two processes are started once for the module; the last test kills one of them.
"""

from __future__ import annotations

import signal

import pytest

from bot.standin.payloads import event_body, message_event
from bot.standin.web_api import FakeSlack
from nextcaller_ops.sandbox import Sandbox
from tests.support.common import PATIENCE, SEINFELD_ID, wait_until
from tests.support.procs import free_port, start_http_bot, stop
from tests.support.shared import PostgresSchema, RedisSpace
from tests.support.shared_bots import Slack, shared_bot_env

LIMIT = 4  # lookups per user per minute, across both processes
WATCHED = "C0WATCHED1"  # a triage channel


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    schema, space = PostgresSchema(), RedisSpace()
    root = tmp_path_factory.mktemp("shared-bots")
    with Sandbox(records=10, db=root / "api.sqlite3") as sandbox, FakeSlack() as fake:
        procs = []
        try:
            urls = []
            for name in ("a", "b"):
                env = shared_bot_env(
                    sandbox,
                    fake,
                    root / name,
                    schema.url,
                    space.url,
                    space.prefix,
                    NEXTCALLER_OPS_LOOKUPS_PER_MINUTE=LIMIT,
                    NEXTCALLER_OPS_OUTBOX_RETRY_SECONDS=0.3,
                    NEXTCALLER_OPS_OUTBOX_LEASE_SECONDS=3,
                    NEXTCALLER_OPS_WATCH_CHANNELS=WATCHED,
                )
                port = free_port()
                procs.append(start_http_bot(env, port))
                urls.append(f"http://127.0.0.1:{port}/slack/events")
            yield type(
                "Pair", (), {"sandbox": sandbox, "slack": Slack(fake), "urls": urls, "procs": procs, "db": schema}
            )
        finally:
            for proc in procs:
                stop(proc)
            schema.drop()
            space.clean()


def record_requests(sandbox, phone: str) -> int:
    return sum(1 for r in sandbox.httpd.signed_requests if "records" in r["path"] and r["query"]["phone"] == [phone])


def test_a_lookup_through_one_process_and_then_the_other_is_one_api_request(pair):
    a, b = pair.urls
    first = pair.slack.card(a, "212-555-8383", user="U0LOOKUP01")
    second = pair.slack.card(b, "(212) 555-8383", user="U0LOOKUP02")
    assert "Seinfeld" in first["text"] + str(first["blocks"]) and second["blocks"] == first["blocks"]
    assert record_requests(pair.sandbox, "2125558383") == 1


def test_the_same_slack_delivery_sent_to_both_is_handled_once(pair):
    a, b = pair.urls
    fake = pair.slack.fake
    # An event (a retry landing on the other process): one App Home published, not two.
    event = Slack.home_opened("Ev0SHARED0001", user="U0HOME0001")
    assert Slack.send(a, event).status_code == 200
    assert Slack.send(b, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}).status_code == 200
    fake.wait_for(lambda cs: any(c["name"] == "views.publish" for c in cs))
    assert Slack.send(b, Slack.home_opened("Ev0SHARED0002", user="U0HOME0002")).status_code == 200
    # B handles deliveries in the order they came: by the time the second event is published, a
    # duplicate of the first (had it not been skipped) would have been published too.
    fake.wait_for(lambda cs: any(c["name"] == "views.publish" and c["args"]["user_id"] == "U0HOME0002" for c in cs))
    assert sorted(c["args"]["user_id"] for c in fake.calls(name="views.publish")) == ["U0HOME0001", "U0HOME0002"]
    # One correction submitted twice, once to each process: one row, one correction applied.
    view = pair.slack.correction_view(a, SEINFELD_ID, "2125558383", user="U0FIX00001")
    body = Slack.submission(view, "V0SHARED0001", user="U0FIX00001", first_name="Jerry Jr.")
    assert Slack.send(a, body).status_code == 200 and Slack.send(b, body).status_code == 200
    # The API applies the correction before the bot records it delivered: wait for the row, then check both.
    outbox_row = "SELECT status FROM nextcaller_outbox WHERE dedupe_key = 'V0SHARED0001'"

    def settled() -> bool:
        return all(status in ("delivered", "rejected") for (status,) in pair.db.query(outbox_row))

    wait_until(settled, what="end of the correction's delivery")
    assert pair.db.query(outbox_row) == [("delivered",)]
    assert [c["body"] for c in pair.sandbox.store.corrections(SEINFELD_ID)] == [{"first_name": "Jerry Jr."}]


def test_a_watched_message_reaching_both_processes_gets_one_threaded_reply(pair):
    """Triage state is shared: the message is claimed once whichever process sees it first."""
    a, b = pair.urls
    fake = pair.slack.fake

    def deliver(url: str, ts: str, event_id: str) -> None:
        body = event_body(
            message_event(WATCHED, "Missed call from (212) 555-8383", ts, user="U0CALLER01"), event_id=event_id
        )
        assert Slack.send(url, body).status_code == 200

    def threaded(ts: str) -> list:
        return [c for c in fake.calls(name="chat.postMessage") if c["args"].get("thread_ts") == ts]

    deliver(a, "1800000000.000100", "Ev0TRIAGEA01")
    fake.wait_for(lambda cs: len(threaded("1800000000.000100")) == 1)
    deliver(b, "1800000000.000100", "Ev0TRIAGEB01")  # the same message, as a different delivery
    deliver(b, "1800000000.000200", "Ev0TRIAGEB02")  # B handles in order: by its reply, the repeat is done
    fake.wait_for(lambda cs: len(threaded("1800000000.000200")) == 1)
    assert len(threaded("1800000000.000100")) == 1
    assert pair.db.query("SELECT COUNT(*) FROM nextcaller_triage_items WHERE channel_id = %s", WATCHED) == [(2,)]


def test_the_per_user_limit_holds_across_both_processes(pair):
    a, b = pair.urls
    for i in range(LIMIT):
        resp, _ = pair.slack.command((a, b)[i % 2], "312-555-0142", user="U0LIMIT001")
        assert resp.status_code == 200 and "reached" not in resp.text
    refused, _ = pair.slack.command(b, "312-555-0142", user="U0LIMIT001")
    assert f"You've reached {LIMIT} lookups a minute" in refused.json()["text"]
    other, _ = pair.slack.command(a, "312-555-0142", user="U0LIMIT002")  # per user
    assert "reached" not in other.text


def test_a_correction_left_by_a_killed_process_is_delivered_exactly_once_by_the_other(pair):
    a, _ = pair.urls
    fake, sandbox = pair.slack.fake, pair.sandbox
    view = pair.slack.correction_view(a, SEINFELD_ID, "2125558383", user="U0KILL0001")
    before = len(sandbox.store.corrections(SEINFELD_ID))
    sandbox.fail_rate = 1.0  # the API is down: every request gets a 503
    try:
        body = Slack.submission(view, "V0KILLED001", user="U0KILL0001", first_name="Kramer")
        assert Slack.send(a, body).status_code == 200  # stored before the ack
        fake.wait_for(
            lambda cs: any(
                "delivered automatically" in c["args"].get("text", "") for c in cs if c["name"] == "chat.postEphemeral"
            )
        )
        pair.procs[0].send_signal(signal.SIGKILL)
        pair.procs[0].wait(timeout=PATIENCE)
    finally:
        sandbox.fail_rate = 0.0
    fake.wait_for(
        lambda cs: any(
            c["name"] == "chat.postMessage"
            and c["args"].get("channel") == "U0KILL0001"
            and "delivered" in c["args"].get("text", "")
            for c in cs
        )
    )
    assert [c["body"] for c in sandbox.store.corrections(SEINFELD_ID)[before:]] == [{"first_name": "Kramer"}]
    rows = pair.db.query("SELECT status, attempts FROM nextcaller_outbox WHERE dedupe_key = 'V0KILLED001'")
    assert rows[0][0] == "delivered" and rows[0][1] >= 2
    delivered_dms = [c for c in fake.calls(name="chat.postMessage") if c["args"].get("channel") == "U0KILL0001"]
    assert len(delivered_dms) == 1
