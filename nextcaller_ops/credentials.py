"""Consumer key and secret (and the bot's Slack secrets) in the OS keyring.

Environment variables win over the keyring, the way twine does it:
``NEXTCALLER_CONSUMER_KEY`` / ``NEXTCALLER_CONSUMER_SECRET``.  Entries live in
the keyring under the service ``nextcaller-ops``, one pair per named profile
(``<profile>:consumer_key``, ``<profile>:consumer_secret``).  A missing, locked
or broken keyring becomes one :class:`KeyringUnavailableError` sentence, never a
traceback or a hang.  Nothing here logs or reprs a secret.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import CredentialsError, KeyringUnavailableError, UsageError
from .redact import mask_secret, register_secret
from .text import is_unicode

__all__ = [
    "Credentials",
    "SERVICE",
    "load_credentials",
    "store_credentials",
    "delete_credentials",
    "get_secret",
    "set_secret",
    "delete_secret",
    "keyring_backend_name",
]

SERVICE = "nextcaller-ops"
# A keyring that needs an unlock prompt nobody can see would block forever.
KEYRING_TIMEOUT = 10.0

T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str = field(repr=False)
    source: str = "env"  # "env", "keyring" or "explicit"

    def __post_init__(self) -> None:
        register_secret(self.consumer_secret)

    def __repr__(self) -> str:
        return f"Credentials(consumer_key={mask_secret(self.consumer_key)!r}, source={self.source!r})"


def _keyring_call(what: str, fn: Callable[..., T], *args: Any) -> T:
    import keyring.errors

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc

    # A daemon thread: a backend stuck on an unlock prompt must not keep the
    # process alive after we have given up on it.
    worker = threading.Thread(target=work, name="keyring", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if worker.is_alive():
        raise KeyringUnavailableError(
            f"the OS keyring did not answer within {KEYRING_TIMEOUT:.0f} s while {what} "
            "(is it locked, waiting for a password prompt?)"
        )
    exc = outcome.get("error")
    if exc is None:
        return outcome["value"]
    if isinstance(exc, keyring.errors.NoKeyringError):
        raise KeyringUnavailableError(f"no OS keyring is available for {what}") from None
    if isinstance(exc, keyring.errors.PasswordDeleteError):
        raise exc
    # The backend's own message may quote what it was handed: never repeat it.
    raise KeyringUnavailableError(f"the OS keyring failed while {what} ({type(exc).__name__})") from None


def _username(profile: str, name: str) -> str:
    return f"{profile}:{name}"


# The bot's Slack secrets: environment variable -> keyring name, under the profile "slack".
SLACK_PROFILE = "slack"
SLACK_SECRET_NAMES = {
    "SLACK_BOT_TOKEN": "bot_token",
    "SLACK_SIGNING_SECRET": "signing_secret",
    "SLACK_APP_TOKEN": "app_token",
}

# The consumer key travels in every request's header: it identifies, it is not secret.
_NOT_SECRET = frozenset({"consumer_key"})


def get_secret(profile: str, name: str) -> str | None:
    import keyring

    value = _keyring_call(f"reading {name}", keyring.get_password, SERVICE, _username(profile, name))
    if name not in _NOT_SECRET:
        register_secret(value)
    return value


def set_secret(profile: str, name: str, value: str) -> None:
    import keyring

    if not is_unicode(value):  # a keyring backend would fail on it, or store what no one can type
        raise UsageError(f"the {name.replace('_', ' ')} is not valid UTF-8 text", hint="use a UTF-8 terminal or file")
    if name not in _NOT_SECRET:
        register_secret(value)
    _keyring_call(f"saving {name}", keyring.set_password, SERVICE, _username(profile, name), value)


def delete_secret(profile: str, name: str) -> bool:
    import keyring
    import keyring.errors

    try:
        _keyring_call(f"deleting {name}", keyring.delete_password, SERVICE, _username(profile, name))
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def load_credentials(profile: str = "default", env: Mapping[str, str] | None = None) -> Credentials:
    """Env first, then the keyring entry of ``profile``; a clear error when neither has both."""
    env = os.environ if env is None else env
    key, secret = env.get("NEXTCALLER_CONSUMER_KEY"), env.get("NEXTCALLER_CONSUMER_SECRET")
    if key and secret:
        return Credentials(key, secret, source="env")
    if key or secret:
        missing = "NEXTCALLER_CONSUMER_SECRET" if key else "NEXTCALLER_CONSUMER_KEY"
        raise CredentialsError(
            f"{missing} is not set (its partner is)", hint="set both variables, or unset both to use the keyring"
        )
    key = get_secret(profile, "consumer_key")
    secret = get_secret(profile, "consumer_secret") if key else None
    if not key or not secret:
        raise CredentialsError(f"no consumer key and secret stored for profile {profile!r}")
    return Credentials(key, secret, source="keyring")


def store_credentials(profile: str, consumer_key: str, consumer_secret: str) -> None:
    if not consumer_key or not consumer_secret:
        raise CredentialsError(
            "both a consumer key and a consumer secret are needed", hint="run `nextcaller-ops login` and enter both"
        )
    set_secret(profile, "consumer_key", consumer_key)
    set_secret(profile, "consumer_secret", consumer_secret)


def delete_credentials(profile: str) -> bool:
    removed = [delete_secret(profile, n) for n in ("consumer_key", "consumer_secret")]
    return any(removed)


def keyring_backend_name() -> str:
    try:
        import keyring

        backend = _keyring_call("checking the backend", keyring.get_keyring)
    except KeyringUnavailableError as exc:
        return f"unavailable ({exc.message})"
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name.lower():
        return f"none ({name})"
    return name
