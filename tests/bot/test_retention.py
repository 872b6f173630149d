"""Retention in the running bot: every store forgets its old rows on a schedule, one setting each.

On SQLite and on PostgreSQL, with a fake clock: old audit entries, finished corrections, triage
items and sightings, expired de-duplication keys go; young rows, and corrections still waiting to
be delivered, stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.retention import Housekeeper, Retention, purge_all
from bot.services import build_services
from bot.settings import BotSettings
from nextcaller_ops.errors import UsageError
from nextcaller_ops.stores import Stores, TriageItem, open_stores
from nextcaller_ops.stores.base import DELIVERED, PENDING, REJECTED
from tests.support.botkit import bot_settings, sandbox_client
from tests.support.common import wait_until

DAY = 86400.0
T0 = 1_700_000_000.0
PROFILE = "97d949a413f4ea8b85e9586e1f2d9a"
CHANNEL = "C0WATCHED1"
FOREVER = 100 * 365 * DAY  # a triage lease that never runs out here: the worker leaves the item alone


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str | None:
    return request.getfixturevalue("pg_schema").url if request.param == "postgresql" else None


@pytest.fixture
def open_backend(database_url, tmp_path) -> Callable[..., Stores]:
    opened: list[Stores] = []

    def open_(clock: Callable[[], float]) -> Stores:
        stores = open_stores(tmp_path / "botdata", database_url=database_url, clock=clock)
        opened.append(stores)
        return stores

    yield open_
    for stores in opened:
        try:
            stores.close()
        except Exception:  # closed by the test already
            pass


def fill(stores: Stores, clock: Clock, now: float) -> dict[str, int]:
    """A row of each kind aged so that the default retention keeps or forgets it; the outbox rows' ids."""
    ages = {"ancient": 100 * DAY, "old": 40 * DAY, "young": 5 * DAY}

    def at(age: str) -> float:
        clock.now = now - ages[age]
        return clock.now

    for age in ages:
        at(age)
        stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome=age)
    rows: dict[str, int] = {}
    for name, age, status in (
        ("old delivered", "old", DELIVERED),
        ("old rejected", "old", REJECTED),
        ("old retrying", "old", PENDING),
        ("young delivered", "young", DELIVERED),
    ):
        row, _ = stores.outbox.submit(PROFILE, {"first_name": name}, now=at(age), user_id="U1")
        claimed = stores.outbox.claim(row.id, now=clock(), lease_seconds=60)
        stores.outbox.finish(claimed, status, now=clock(), next_attempt=now + DAY)  # none due: no delivery runs
        rows[name] = row.id
    rows["old waiting"] = stores.outbox.submit(PROFILE, {"first_name": "W"}, now=at("ancient"), due=now + DAY)[0].id
    for age in ("old", "young"):
        ts = f"{at(age):.6f}"
        stores.triage.add(TriageItem(CHANNEL, ts, ts, "U2", ["2125558383"], created=clock()), lease_seconds=FOREVER)
        stores.triage.sighted(CHANNEL, "2125558383", ts, clock())
    clock.now = now - 2 * DAY
    stores.dedupe.claim("Ev-old")
    clock.now = now - 3600
    stores.dedupe.claim("Ev-young")
    clock.now = now
    return rows


def audit_outcomes(stores: Stores) -> list[str]:
    return [e["outcome"] for e in stores.audit.entries()]


def triage_ages(stores: Stores, now: float) -> list[str]:
    items = stores.triage.open_items(CHANNEL, 0)
    return ["old" if now - item.created > 30 * DAY else "young" for item in items]


def test_purge_all_forgets_each_stores_old_rows_and_keeps_the_rest(open_backend):
    clock = Clock()
    stores = open_backend(clock)
    rows = fill(stores, clock, T0)
    assert purge_all(stores, Retention(), T0) == {"dedupe": 1, "audit": 1, "outbox": 2, "triage": 1}
    assert audit_outcomes(stores) == ["old", "young"]  # 40 days is within the audit's 90
    gone = [name for name, row_id in rows.items() if stores.outbox.get(row_id) is None]
    assert gone == ["old delivered", "old rejected"]  # not the one waiting, nor the one to retry
    assert stores.outbox.counts() == {PENDING: 2, DELIVERED: 1, REJECTED: 0}
    assert triage_ages(stores, T0) == ["young"]
    assert stores.triage.sightings(CHANNEL, "2125558383", 0) == 1
    assert not stores.dedupe.claim("Ev-young") and stores.dedupe.claim("Ev-old")
    assert purge_all(stores, Retention(), T0) == {"dedupe": 0, "audit": 0, "outbox": 0, "triage": 0}


def test_each_store_keeps_to_its_own_setting_and_zero_keeps_everything(open_backend):
    clock = Clock()
    stores = open_backend(clock)
    rows = fill(stores, clock, T0)
    assert purge_all(stores, Retention(audit_days=0, outbox_days=0, triage_days=0), T0) == {"dedupe": 1}
    assert len(audit_outcomes(stores)) == 3 and all(stores.outbox.get(r) for r in rows.values())
    purged = purge_all(stores, Retention(audit_days=7, outbox_days=1, triage_days=0), T0)
    assert purged == {"dedupe": 0, "audit": 2, "outbox": 3}  # triage: not even asked
    assert audit_outcomes(stores) == ["young"] and triage_ages(stores, T0) == ["old", "young"]
    assert [name for name, row_id in rows.items() if stores.outbox.get(row_id)] == ["old retrying", "old waiting"]


def test_the_housekeeper_purges_at_start_and_then_on_its_schedule(open_backend):
    clock = Clock(T0 - 100 * DAY)
    stores = open_backend(clock)
    stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="ancient")
    clock.now = T0 - 80 * DAY
    stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="aging")
    clock.now = T0
    keeper = Housekeeper(stores, Retention(), every=0.05, clock=clock)
    keeper.start()
    try:
        wait_until(lambda: audit_outcomes(stores) == ["aging"], what="purge of the ancient audit entry")
        clock.now += 20 * DAY  # "aging" is 100 days old now: the next round takes it
        wait_until(lambda: audit_outcomes(stores) == [], what="purge of the aging audit entry on the next round")
    finally:
        keeper.stop()


def test_the_running_bot_enforces_its_retention(open_backend, database_url, sandbox, slack, tmp_path):
    """The services the bot starts purge with the bot's settings, once at start (then hourly)."""
    now = time.time()
    clock = Clock()
    seeded = open_backend(clock)
    rows = fill(seeded, clock, now)
    settings = bot_settings(
        tmp_path / "botdata",
        slack.api_url,
        database_url=database_url,
        retention=Retention(audit_days=60, outbox_days=30, triage_days=30),
    )
    services = build_services(settings, sandbox_client(sandbox))
    # building the services (opening the stores, the triage service) deleted nothing: starting them does
    assert len(audit_outcomes(seeded)) == 3 and triage_ages(seeded, now) == ["old", "young"]
    services.start()
    try:
        wait_until(lambda: audit_outcomes(seeded) == ["old", "young"], what="purge of the ancient audit entry")
        wait_until(lambda: triage_ages(seeded, now) == ["young"], what="purge of the old triage item")
        wait_until(lambda: seeded.outbox.get(rows["old delivered"]) is None, what="purge of the old delivered row")
        assert seeded.outbox.get(rows["old rejected"]) is None and seeded.outbox.get(rows["young delivered"])
        assert seeded.outbox.get(rows["old waiting"]) is not None
    finally:
        services.close()


def test_the_settings_come_from_the_environment():
    env = {
        "NEXTCALLER_OPS_AUDIT_RETENTION_DAYS": "7",
        "NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS": "2",
        "NEXTCALLER_OPS_TRIAGE_RETENTION_DAYS": "0",
    }
    assert Retention.from_env({}) == Retention(audit_days=90, outbox_days=30, triage_days=30)
    assert Retention.from_env(env) == Retention(audit_days=7, outbox_days=2, triage_days=0)
    assert BotSettings.from_env(env, use_keyring=False).retention == Retention(7, 2, 0)


@pytest.mark.parametrize(
    ("value", "words"), [("thirty", "'thirty' is not a number"), ("-1", "=-1 is negative"), ("7.5", "is not a number")]
)
def test_a_malformed_retention_is_refused_naming_the_setting(value, words):
    with pytest.raises(UsageError) as info:
        Retention.from_env({"NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS": value})
    assert "NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS" in str(info.value) and words in str(info.value)
