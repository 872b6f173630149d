"""The bot's fixtures: the local fake Slack and running bots (the real Bolt app over signed HTTP)."""

from __future__ import annotations

import pytest

from bot.standin.web_api import FakeSlack
from tests.support.botkit import RunningBot


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def make_bot(sandbox, slack, tmp_path):
    """``make_bot(**settings)``: a bot serving HTTP; several may share a ``data_dir`` (a restart)."""
    bots = []

    def make(**overrides):
        bot = RunningBot(sandbox, slack, overrides.pop("data_dir", tmp_path / "botdata"), **overrides)
        bots.append(bot)
        return bot

    yield make
    for b in bots:
        b.close()


@pytest.fixture
def bot(make_bot):
    return make_bot()
