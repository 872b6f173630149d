"""Who may look up where, what a shared card shows, and the per-user limit (with a fake clock)."""

from __future__ import annotations

import threading

import pytest

from bot import messages
from bot.policy import Policy, Refusal
from nextcaller_ops.rate.window import RateLimiter

AGENT, OTHER, TRIAGE, RANDOM = "U0AGENT001", "U0OTHER001", "C0TRIAGE01", "C0RANDOM01"


def test_no_allowlist_means_everyone_everywhere():
    policy = Policy()
    assert policy.refusal(AGENT, TRIAGE) is None
    assert policy.refusal(None, None) is None


@pytest.mark.parametrize(
    ("user", "channel", "expected"),
    [
        (AGENT, TRIAGE, None),
        (OTHER, TRIAGE, Refusal.USER),
        (AGENT, RANDOM, Refusal.CHANNEL),
        (OTHER, RANDOM, Refusal.USER),  # the person first: they can't fix it by changing channel
        (None, TRIAGE, Refusal.USER),
        (AGENT, None, Refusal.CHANNEL),
    ],
)
def test_allowlists(user, channel, expected):
    policy = Policy(allowed_channels=frozenset({TRIAGE}), allowed_users=frozenset({AGENT}))
    assert policy.refusal(user, channel) == expected


def test_an_empty_allowlist_refuses_everyone():
    assert Policy(allowed_users=frozenset()).refusal(AGENT, TRIAGE) == Refusal.USER
    assert Policy(allowed_channels=frozenset()).refusal(AGENT, TRIAGE) == Refusal.CHANNEL


def test_each_refusal_is_worded_with_the_setting_to_change():
    assert "NEXTCALLER_OPS_ALLOWED_USERS" in messages.refusal(Refusal.USER)
    assert "NEXTCALLER_OPS_ALLOWED_CHANNELS" in messages.refusal(Refusal.CHANNEL)


def test_shared_cards_are_redacted_except_in_cleared_channels():
    policy = Policy(pii_channels=frozenset({"C0CLEARED1"}))
    assert policy.redact_shared(TRIAGE) is True
    assert policy.redact_shared(None) is True
    assert policy.redact_shared("C0CLEARED1") is False
    assert Policy().redact_shared(TRIAGE) is True  # cleared channels are opt-in


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_is_a_sliding_window_per_user():
    clock = Clock()
    limiter = RateLimiter(3, window=60.0, clock=clock)
    for t in (0.0, 10.0, 20.0):
        clock.now = 100.0 + t
        assert limiter.wait_time(AGENT) == 0.0
    clock.now = 130.0
    assert limiter.wait_time(AGENT) == pytest.approx(30.0)  # the first lookup leaves the window at 160
    assert limiter.wait_time(OTHER) == 0.0  # someone else is not held back
    clock.now = 159.9
    assert limiter.wait_time(AGENT) == pytest.approx(0.1)
    clock.now = 160.0
    assert limiter.wait_time(AGENT) == 0.0
    assert limiter.wait_time(AGENT) == pytest.approx(10.0)  # 170: the 10 s lookup leaves next


def test_a_refused_lookup_is_not_counted():
    clock = Clock()
    limiter = RateLimiter(1, window=60.0, clock=clock)
    assert limiter.wait_time(AGENT) == 0.0
    for _ in range(5):
        clock.now += 10
        assert limiter.wait_time(AGENT) > 0
    clock.now = 160.0
    assert limiter.wait_time(AGENT) == 0.0


def test_no_limit_when_the_setting_is_zero():
    limiter = RateLimiter(0, clock=Clock())
    assert all(limiter.wait_time(AGENT) == 0.0 for _ in range(1000))


def test_the_limit_holds_under_concurrent_lookups():
    limiter = RateLimiter(10, clock=Clock())
    allowed: list[bool] = []
    gate = threading.Barrier(50)

    def one() -> None:
        gate.wait()
        allowed.append(limiter.wait_time(AGENT) == 0.0)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 10


def test_the_rate_limit_sentence_rounds_the_wait_up():
    assert messages.rate_limited(30, 0.2) == "You've reached 30 lookups a minute. Try again in 1 s."
    assert messages.rate_limited(2, 41.7) == "You've reached 2 lookups a minute. Try again in 42 s."
