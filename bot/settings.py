"""The bot's settings: Slack secrets from env or the keyring, policy from env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nextcaller_ops.config import env_duration, env_number
from nextcaller_ops.credentials import SLACK_PROFILE, SLACK_SECRET_NAMES
from nextcaller_ops.errors import Action, CredentialsError

from .retention import Retention

__all__ = ["BotSettings"]


def _ids(value: str | None) -> frozenset[str] | None:
    """Comma-separated Slack IDs; unset or empty means everyone."""
    if not value or not value.strip():
        return None
    return frozenset(v.strip() for v in value.split(",") if v.strip())


_OFF = ("0", "false", "no", "off")


def _internal_numbers(value: str | None) -> frozenset[str]:
    """NEXTCALLER_OPS_INTERNAL_NUMBERS: numbers, or a file of them (``@path`` or a path); a usage error naming
    the setting when the file cannot be read or an entry is not a number."""
    from nextcaller_ops.api.internal import file_of, internal_numbers
    from nextcaller_ops.errors import UsageError

    if not value or not value.strip():
        return frozenset()
    name = "NEXTCALLER_OPS_INTERNAL_NUMBERS"
    path = file_of(value)
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8") if path else value
    except OSError as exc:
        raise UsageError(
            f"{name}: cannot read {path} ({exc.strerror or type(exc).__name__})",
            hint="give a readable file of numbers (one a line), or the numbers themselves, comma-separated",
        ) from None
    try:
        return internal_numbers(text)
    except ValueError as exc:
        raise UsageError(f"{name}: {exc}", hint="list 10-digit US numbers, comma-separated or one a line") from None


def _times_of_day(value: str | None) -> tuple[tuple[int, int], ...]:
    """NEXTCALLER_OPS_DIGEST_AT: ``08:00,16:00`` -> ((8, 0), (16, 0)); a usage error naming the setting otherwise."""
    import re

    from nextcaller_ops.errors import UsageError

    times = []
    for part in (value or "").split(","):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", part)
        if not match:
            raise UsageError(
                f"NEXTCALLER_OPS_DIGEST_AT: {part.strip()[:20]!r} is not a time of day",
                hint="give times as HH:MM, comma-separated, e.g. 08:00,16:00",
            )
        times.append((int(match[1]), int(match[2])))
    return tuple(sorted(set(times)))


def _timezone(value: str | None) -> str:
    """NEXTCALLER_OPS_TIMEZONE: an IANA zone name (zoneinfo), e.g. America/New_York; UTC when unset."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from nextcaller_ops.errors import UsageError

    name = (value or "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"NEXTCALLER_OPS_TIMEZONE: {name[:40]!r} is not a time zone", hint="use an IANA name, e.g. America/New_York"
        ) from None
    return name


@dataclass(frozen=True)
class BotSettings:
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    slack_api_url: str | None = None
    allowed_channels: frozenset[str] | None = None
    allowed_users: frozenset[str] | None = None
    pii_channels: frozenset[str] = frozenset()  # channels where shared cards keep email and street
    lookups_per_minute: int = 30
    retention: Retention = field(default_factory=Retention)  # days each store keeps its rows (bot.retention)
    data_dir: Path | None = None  # None: the data dir of nextcaller_ops.config (NEXTCALLER_OPS_DATA_DIR)
    outbox_retry_seconds: float = 5.0  # first retry of an undelivered correction; doubles, capped at 60 s
    outbox_lease_seconds: float = 30.0  # a delivery whose process died is taken over after this
    # Shared state for many bot processes (README "Running for a team"); URLs may hold a password.
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL: audit, outbox, dedupe
    redis_url: str | None = field(default=None, repr=False)  # Redis: the per-user limit (and the client's cache)
    redis_prefix: str = "nextcaller-ops"
    token_verification: bool = True
    listener_threads: int = 64
    # Triage channels: watched from the start, who may turn watching on or off, and the lookups a
    # watched channel may cost per minute (numbers not in the cache; over it, lookups pause)
    watch_channels: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()
    watch_lookups_per_minute: int = 60
    triage_retry_seconds: float = 10.0  # first retry of a lookup the API failed; doubles, capped at 5 min
    # The team's own numbers (NEXTCALLER_OPS_INTERNAL_NUMBERS): never looked up, never answered in triage
    internal_numbers: frozenset[str] = frozenset()
    # Triage timers (issue 26): nudge a claimer, release a claim left open, list unclaimed items as stale
    triage_remind_after: float = 2 * 3600.0
    triage_release_after: float = 8 * 3600.0
    triage_stale_after: float = 30 * 60.0
    # The digest (issue 26): where (else each watched channel itself), at which times of day, in which zone
    digest_channel: str | None = None
    digest_at: tuple[tuple[int, int], ...] = ()
    timezone: str = "UTC"
    auto_migrate: bool = True  # bring the PostgreSQL schema up to date at start (NEXTCALLER_OPS_AUTO_MIGRATE=0: don't)

    def __post_init__(self) -> None:
        from nextcaller_ops.redact import register_secret

        for value in (self.bot_token, self.signing_secret, self.app_token):
            register_secret(value)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, use_keyring: bool = True) -> BotSettings:
        env = os.environ if env is None else env
        secrets = {attr: env.get(var, "") for var, attr in SLACK_SECRET_NAMES.items()}
        if use_keyring and not (secrets["bot_token"] and secrets["signing_secret"]):
            from nextcaller_ops.credentials import get_secret

            for attr in secrets:
                if not secrets[attr]:
                    try:
                        secrets[attr] = get_secret(SLACK_PROFILE, attr) or ""
                    except CredentialsError:
                        break
        return cls(
            bot_token=secrets["bot_token"],
            signing_secret=secrets["signing_secret"],
            app_token=secrets["app_token"],
            slack_api_url=env.get("SLACK_API_URL") or None,
            allowed_channels=_ids(env.get("NEXTCALLER_OPS_ALLOWED_CHANNELS")),
            allowed_users=_ids(env.get("NEXTCALLER_OPS_ALLOWED_USERS")),
            pii_channels=_ids(env.get("NEXTCALLER_OPS_PII_CHANNELS")) or frozenset(),
            lookups_per_minute=env_number(env, "NEXTCALLER_OPS_LOOKUPS_PER_MINUTE", 30),
            retention=Retention.from_env(env),
            outbox_retry_seconds=env_number(env, "NEXTCALLER_OPS_OUTBOX_RETRY_SECONDS", 5.0, float),
            watch_channels=_ids(env.get("NEXTCALLER_OPS_WATCH_CHANNELS")) or frozenset(),
            admins=_ids(env.get("NEXTCALLER_OPS_ADMINS")) or frozenset(),
            watch_lookups_per_minute=env_number(env, "NEXTCALLER_OPS_WATCH_LOOKUPS_PER_MINUTE", 60),
            outbox_lease_seconds=env_number(env, "NEXTCALLER_OPS_OUTBOX_LEASE_SECONDS", 30.0, float),
            database_url=env.get("NEXTCALLER_OPS_DATABASE_URL") or None,
            redis_url=env.get("NEXTCALLER_OPS_REDIS_URL") or None,
            redis_prefix=env.get("NEXTCALLER_OPS_REDIS_PREFIX") or "nextcaller-ops",
            internal_numbers=_internal_numbers(env.get("NEXTCALLER_OPS_INTERNAL_NUMBERS")),
            triage_remind_after=env_duration(env, "NEXTCALLER_OPS_TRIAGE_REMIND_AFTER", 2 * 3600.0),
            triage_release_after=env_duration(env, "NEXTCALLER_OPS_TRIAGE_RELEASE_AFTER", 8 * 3600.0),
            triage_stale_after=env_duration(env, "NEXTCALLER_OPS_TRIAGE_STALE_AFTER", 30 * 60.0),
            digest_channel=(env.get("NEXTCALLER_OPS_DIGEST_CHANNEL") or "").strip() or None,
            digest_at=_times_of_day(env.get("NEXTCALLER_OPS_DIGEST_AT")),
            timezone=_timezone(env.get("NEXTCALLER_OPS_TIMEZONE")),
            auto_migrate=(env.get("NEXTCALLER_OPS_AUTO_MIGRATE") or "1").strip().lower() not in _OFF,
        )

    def require(self, *, socket: bool) -> None:
        missing = [
            name
            for name, attr in SLACK_SECRET_NAMES.items()
            if not getattr(self, attr) and (attr != "app_token" or socket) and (attr != "signing_secret" or not socket)
        ]
        if missing:
            raise CredentialsError(
                f"missing Slack secret(s): {', '.join(missing)}",
                hint="set them in the environment or run `nextcaller-ops slack-login`",
                action=Action.NONE,  # the hint says it all: not the Next Caller login advice
            )
