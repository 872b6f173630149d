"""Log in, log out, and "is this working?": once, for the CLI, the notebook and the bot.

Each function returns data; the surfaces word it (``nextcaller-ops status``,
``%nextcaller_status``, the bot's App Home).  Nothing here prints or prompts.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors
from .api.text import is_unicode
from .config import Settings, load_settings, save_profile_settings
from .credentials import Credentials, delete_credentials, keyring_backend_name, load_credentials, store_credentials
from .rate.pacer import PacingState, pacer_for
from .redact import mask_secret

if TYPE_CHECKING:
    from .client.client import NextCallerClient

__all__ = [
    "ApiCheck",
    "BackendCheck",
    "Status",
    "check_backends",
    "LoginResult",
    "check_api",
    "status",
    "login",
    "logout",
]


@dataclass(frozen=True)
class ApiCheck:
    """The outcome of one live check against the API (costs no lookup)."""

    ok: bool  # the API answered and accepted the key
    key_ok: bool | None  # False: the key or account was refused; None: no answer to tell
    latency_ms: float | None = None
    error: errors.NextCallerError | None = None


@dataclass(frozen=True)
class BackendCheck:
    """Where one part of the state lives and whether it answers (``status`` checks each)."""

    role: str  # "stores": audit log, outbox, de-duplication · "cache": lookup cache, single-flight, limits
    backend: str  # "sqlite" or "postgresql" · "memory", "sqlite" (a cache file) or "redis"
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)  # schema, outbox counts, version, latency…
    error: str | None = None  # why not ok; never holds a URL


@dataclass(frozen=True)
class Status:
    """What ``status`` reports: the profile, where it points, the key and (optionally) a live check."""

    settings: Settings
    keyring_backend: str
    key: str | None  # masked, never the key itself (the API username on Basic auth)
    key_source: str | None  # "env", "keyring" or "explicit"
    credentials_error: errors.CredentialsError | None
    check: ApiCheck | None  # None when not checked (offline, or no credentials)
    backends: tuple[BackendCheck, ...] = ()
    pacing: PacingState | None = None  # the rate in force and the limit learned (after the check)


@dataclass(frozen=True)
class LoginResult:
    profile: str
    key: str  # masked (the consumer key, or the API username on Basic auth)
    verified: bool
    note: str  # why it was not verified, when it was not
    settings_path: Path
    base_url: str
    api_version: str = "v2"
    auth: str = "oauth1"
    made_default: bool = False


def check_api(client: NextCallerClient) -> ApiCheck:
    """Ask the API once; sort the answer into "working", "key refused" and "no answer"."""
    started = time.perf_counter()
    try:
        client.check()
    except (errors.AuthError, errors.BillingError, errors.ExpiredTrialError) as exc:
        return ApiCheck(ok=False, key_ok=False, error=exc)
    except errors.NextCallerError as exc:
        return ApiCheck(ok=False, key_ok=None, error=exc)
    return ApiCheck(ok=True, key_ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 1))


def check_backends(settings: Settings) -> tuple[BackendCheck, ...]:
    """The stores (SQLite files or PostgreSQL) and the cache (memory, a file or Redis), each checked once."""
    from .config import data_dir
    from .stores import check_stores

    try:
        found = check_stores(data_dir(), settings.database_url)
        stores = BackendCheck("stores", found.pop("backend"), bool(found.pop("ok")), found, found.pop("error", None))
    except errors.NextCallerError as exc:  # e.g. a URL that is not postgresql://
        stores = BackendCheck("stores", "postgresql", False, error=exc.message)
    if settings.redis_url:
        from .stores.redis import check

        found = check(settings.redis_url, settings.redis_prefix)
        cache = BackendCheck("cache", "redis", bool(found.pop("ok")), found, found.pop("error", None))
    elif settings.cache_path:
        cache = BackendCheck("cache", "sqlite", True, {"where": settings.cache_path})
    else:
        cache = BackendCheck("cache", "memory", True)
    return stores, cache


def status(
    profile: str | None = None,
    *,
    live: bool = True,
    settings: Settings | None = None,
    client: NextCallerClient | None = None,
) -> Status:
    """The profile's settings, keyring, masked key and, when ``live``, a check against the API.

    With ``client`` given, its credentials are reported and it makes the check
    (the notebook and the bot hold one); otherwise one is made for the check.
    """
    from .client.client import NextCallerClient

    settings = settings or (client.settings if client is not None else load_settings(profile))
    backend = keyring_backend_name()
    credentials: Credentials | None
    if client is not None:
        credentials, problem = client.credentials, None
    else:
        try:
            credentials, problem = load_credentials(settings.profile, auth=settings.auth), None
        except errors.CredentialsError as exc:
            credentials, problem = None, exc
    check: ApiCheck | None = None
    pacing: PacingState | None = None
    if live and credentials is not None:
        if client is not None:
            check = check_api(client)
        else:
            with NextCallerClient(credentials, settings) as own:
                check = check_api(own)
    if client is not None:
        pacing = client.pacer.state()
    elif credentials is not None:  # the check's answer taught this process's pacer; with Redis, every process's
        pacing = pacer_for(settings, credentials).state()
    return Status(
        settings=settings,
        keyring_backend=backend,
        key=mask_secret(credentials.consumer_key) if credentials else None,
        key_source=credentials.source if credentials else None,
        credentials_error=problem,
        check=check,
        backends=check_backends(settings),
        pacing=pacing,
    )


def login(
    profile: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    base_url: str | None = None,
    api_version: str | None = None,
    auth: str | None = None,
    account_id: str | None = None,
    verify: bool = True,
    require_verified: bool = False,
    make_default: bool = False,
) -> LoginResult:
    """Check the credentials against the API (unless told not to), then store them.

    ``consumer_key`` / ``consumer_secret`` are the API username and password
    when the profile's ``auth`` is ``basic`` (API v2.1's scheme).  ``api_version``,
    ``auth`` and ``account_id`` are saved with the profile when given.  An API
    that refuses the credentials raises and stores nothing.  An API that cannot
    be reached stores them unverified, or raises when ``require_verified``.

    They are checked where lookups will send them: ``base_url`` when given, else
    ``NEXTCALLER_BASE_URL`` (which overrides the profile's at lookup time), else
    the profile's.  Only a ``base_url`` given is saved with the profile.
    """
    from .client.client import NextCallerClient

    key, secret = (consumer_key or "").strip(), (consumer_secret or "").strip()
    settings = load_settings(
        profile, env={}, base_url=base_url, api_version=api_version, auth=auth, account_id=account_id
    )
    if not key or not secret:
        words = "an API username and a password" if settings.auth == "basic" else "a consumer key and a secret"
        raise errors.UsageError(f"both {words} are needed")
    if not (is_unicode(key) and is_unicode(secret)):  # never echoed: it may be the secret
        pair = "API username or password" if settings.auth == "basic" else "consumer key or secret"
        raise errors.UsageError(
            f"the {pair} is not valid UTF-8 text",
            hint="it was typed or piped in another encoding; use a UTF-8 terminal (LANG=C.UTF-8) or file",
        )
    verified, note = False, "not checked"
    env_url = os.environ.get("NEXTCALLER_BASE_URL", "").strip()
    checked_at = (
        settings
        if base_url or not env_url
        else load_settings(profile, env={}, base_url=env_url, api_version=api_version, auth=auth, account_id=account_id)
    )
    if verify:
        try:
            credentials = Credentials(key, secret, source="explicit", auth=settings.auth)
            with NextCallerClient(credentials, checked_at) as client:
                client.check()
            verified, note = True, ""
        except errors.TransportError as exc:
            if require_verified:
                raise
            note = f"not verified: {exc.message}"
    store_credentials(profile, key, secret, auth=settings.auth)
    path = save_profile_settings(
        profile,
        make_default=make_default,
        base_url=settings.base_url,
        api_version=settings.api_version,
        auth=settings.auth,
        account_id=account_id,
    )
    return LoginResult(
        profile,
        mask_secret(key),
        verified,
        note,
        path,
        checked_at.base_url,
        settings.api_version,
        settings.auth,
        made_default=make_default,
    )


def logout(profile: str) -> bool:
    """Remove the profile's key and secret from the keyring; False when there was nothing."""
    return delete_credentials(profile)


def logout_words(profile: str, removed: bool, *, login: str) -> str:
    """What a logout did, for people: the keyring, and the default it undid (``login`` is the surface's verb)."""
    from .config import forget_default_profile

    said = (
        f"Removed the key and secret of profile {profile!r} from the keyring."
        if removed
        else f"Profile {profile!r} had nothing stored in the keyring."
    )
    if forget_default_profile(profile):
        said += f" It is no longer the default profile (`{login} --make-default` makes one)."
    return said


def default_words(result: LoginResult, *, login: str) -> str:
    """After a login: that its profile is now the default, or that lookups read another one and how to choose."""
    from .config import chosen_profile

    if result.made_default:
        return f"Profile {result.profile!r} is now the default profile."
    used = chosen_profile()
    if used == result.profile:
        return ""
    return (
        f"Lookups use profile {used!r}: give --profile {result.profile} (or set NEXTCALLER_PROFILE="
        f"{result.profile}), or make it the default with `{login} --profile {result.profile} --make-default`."
    )
