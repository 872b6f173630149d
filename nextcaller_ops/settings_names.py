"""Every ``NEXTCALLER_OPS_*`` environment variable this project reads: one list, checked at start.

A misspelt variable is otherwise ignored without a word, and for the bot's
allow-lists "unset" means "everyone": ``..._ALLOWED_CHANEL=C1`` (one N short)
would open the bot to every channel.  So the CLI (every verb, ``bot`` included), the
bot's entry points (``bot/run.py``, ``bot/wsgi.py``) and ``%load_ext`` refuse to
start when the environment holds a ``NEXTCALLER_OPS_*`` name that is not in
:data:`KNOWN_SETTINGS`, naming the closest known one (:func:`check_environment`).

``NEXTCALLER_*`` names without ``OPS_`` (``NEXTCALLER_BASE_URL``, the credentials)
are not checked here.

ADD EVERY NEW ``NEXTCALLER_OPS_*`` VARIABLE TO ``KNOWN_SETTINGS`` (tests' and
benchmarks' too): ``tests/cli/test_unknown_settings.py`` fails when a name used
anywhere in the repository is missing from it.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping

from .api.text import show_invalid
from .errors import UsageError

__all__ = ["KNOWN_SETTINGS", "PREFIX", "UnknownSettingError", "unknown_settings", "check_environment"]

PREFIX = "NEXTCALLER_OPS_"

# Add every new variable here (see the module's docstring).
KNOWN_SETTINGS: frozenset[str] = frozenset(
    {
        # where things live
        "NEXTCALLER_OPS_CONFIG_DIR",
        "NEXTCALLER_OPS_DATA_DIR",
        # shared state for many processes
        "NEXTCALLER_OPS_DATABASE_URL",
        "NEXTCALLER_OPS_REDIS_URL",
        "NEXTCALLER_OPS_REDIS_PREFIX",
        # the API's pacing
        "NEXTCALLER_OPS_MAX_RPS",
        # the bot: who may use it, and its limits
        "NEXTCALLER_OPS_ALLOWED_CHANNELS",
        "NEXTCALLER_OPS_ALLOWED_USERS",
        "NEXTCALLER_OPS_PII_CHANNELS",
        "NEXTCALLER_OPS_ADMINS",
        "NEXTCALLER_OPS_LOOKUPS_PER_MINUTE",
        # retention and the correction outbox
        "NEXTCALLER_OPS_AUDIT_RETENTION_DAYS",
        # how the audit log keeps numbers (full|masked|hash), and the key of its hashes (else the keyring's)
        "NEXTCALLER_OPS_AUDIT_NUMBERS",
        "NEXTCALLER_OPS_AUDIT_KEY",
        "NEXTCALLER_OPS_OUTBOX_RETENTION_DAYS",
        "NEXTCALLER_OPS_TRIAGE_RETENTION_DAYS",
        "NEXTCALLER_OPS_OUTBOX_RETRY_SECONDS",
        "NEXTCALLER_OPS_OUTBOX_LEASE_SECONDS",
        # outgoing webhooks (nextcaller_ops/webhooks.py): receivers, the whsec_ secret, which events, full numbers
        "NEXTCALLER_OPS_WEBHOOK_URL",
        "NEXTCALLER_OPS_WEBHOOK_SECRET",
        "NEXTCALLER_OPS_WEBHOOK_EVENTS",
        "NEXTCALLER_OPS_WEBHOOK_PII",
        # triage channels
        "NEXTCALLER_OPS_WATCH_CHANNELS",
        "NEXTCALLER_OPS_WATCH_LOOKUPS_PER_MINUTE",
        "NEXTCALLER_OPS_INTERNAL_NUMBERS",  # issue 26: the team's own numbers, never looked up
        "NEXTCALLER_OPS_TRIAGE_REMIND_AFTER",  # issue 26: triage timers (90s, 30m, 2h, 1d)
        "NEXTCALLER_OPS_TRIAGE_RELEASE_AFTER",
        "NEXTCALLER_OPS_TRIAGE_STALE_AFTER",
        "NEXTCALLER_OPS_DIGEST_CHANNEL",  # issue 26: the triage digest, where and when
        "NEXTCALLER_OPS_DIGEST_AT",
        "NEXTCALLER_OPS_TIMEZONE",
        # operating the bot (README, "Running it in production")
        "NEXTCALLER_OPS_LOG_FORMAT",
        "NEXTCALLER_OPS_AUTO_MIGRATE",
        "NEXTCALLER_OPS_ENV_FILE",
        # health and metrics (bot/health.py): Socket Mode's HTTP port for them; readiness's outbox age
        "NEXTCALLER_OPS_HEALTH_PORT",
        "NEXTCALLER_OPS_READY_OUTBOX_MAX_AGE",
        # the test suite's and the benchmarks' servers (tests/support/shared.py, bench/)
        "NEXTCALLER_OPS_TEST_DATABASE_URL",
        "NEXTCALLER_OPS_TEST_REDIS_URL",
    }
)


class UnknownSettingError(UsageError):
    """The environment names a ``NEXTCALLER_OPS_*`` setting this project does not read."""

    def __init__(self, names: list[str]):
        shown = [show_invalid(name, limit=80) for name in names]  # a name is text too: nothing a terminal acts on
        first = shown[0]
        close = difflib.get_close_matches(first.upper(), sorted(KNOWN_SETTINGS), n=1, cutoff=0.6)
        guess = f" (did you mean {close[0]}?)" if close else ""
        more = f"; also {', '.join(shown[1:4])}{' …' if len(names) > 4 else ''}" if len(names) > 1 else ""
        super().__init__(
            f"unknown setting {first}{guess}{more}",
            hint="fix or unset it: a misspelt setting would be ignored, and an ignored allow-list lets everyone in",
        )
        self.names = names
        self.suggestion = close[0] if close else None


def unknown_settings(env: Mapping[str, str] | None = None) -> list[str]:
    """The ``NEXTCALLER_OPS_*`` names in ``env`` (default: the process's) that are not known, sorted."""
    env = os.environ if env is None else env
    # Case-insensitively: nextcaller_ops_allowed_channels is a slip too (and is not read either).
    return sorted(name for name in env if name.upper().startswith(PREFIX) and name not in KNOWN_SETTINGS)


def check_environment(env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`UnknownSettingError` when ``env`` names an unknown ``NEXTCALLER_OPS_*`` setting."""
    names = unknown_settings(env)
    if names:
        raise UnknownSettingError(names)
