"""API credentials (and the bot's Slack secrets) in the OS keyring.

Two kinds, one per auth scheme (the profile's ``auth`` setting):

* ``oauth1`` (API v2): a consumer key and secret — ``NEXTCALLER_CONSUMER_KEY`` /
  ``NEXTCALLER_CONSUMER_SECRET``, keyring entries ``<profile>:consumer_key`` and
  ``<profile>:consumer_secret``;
* ``basic`` (API v2.1): an API username and password — ``NEXTCALLER_API_USERNAME`` /
  ``NEXTCALLER_API_PASSWORD``, keyring entries ``<profile>:api_username`` and
  ``<profile>:api_password``.

Environment variables win over the keyring, the way twine does it.  Entries live
under the service ``nextcaller-ops``.  A missing, locked or broken keyring becomes
one :class:`KeyringUnavailableError` sentence, never a traceback or a hang.
Nothing here logs or reprs a secret.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .api.text import is_unicode
from .errors import Action, CredentialsError, KeyringUnavailableError, UsageError
from .redact import mask_secret, register_secret

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
    "CREDENTIAL_NAMES",
]

SERVICE = "nextcaller-ops"
# A keyring that needs an unlock prompt nobody can see would block forever.
KEYRING_TIMEOUT = 10.0

T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    """Who the client is to the API: an OAuth 1.0a consumer key and secret, or a Basic username and password.

    The identity (key or username) travels in every request; the secret never
    leaves this object except to sign or to build the ``Authorization`` header.
    """

    consumer_key: str  # OAuth: the consumer key; Basic: the API username
    consumer_secret: str = field(repr=False)  # OAuth: the consumer secret; Basic: the API password
    source: str = "env"  # "env", "keyring" or "explicit"
    auth: str = "oauth1"  # "oauth1" or "basic"

    def __post_init__(self) -> None:
        register_secret(self.consumer_secret)

    @property
    def username(self) -> str:
        """The Basic-auth API username (the same slot as an OAuth consumer key)."""
        return self.consumer_key

    @property
    def password(self) -> str:
        return self.consumer_secret

    def __repr__(self) -> str:
        name = "username" if self.auth == "basic" else "consumer_key"
        return f"Credentials({name}={mask_secret(self.consumer_key)!r}, auth={self.auth!r}, source={self.source!r})"


# auth kind -> (env var of the identity, env var of the secret, keyring name, keyring name, words)
CREDENTIAL_NAMES: dict[str, tuple[str, str, str, str, str]] = {
    "oauth1": (
        "NEXTCALLER_CONSUMER_KEY",
        "NEXTCALLER_CONSUMER_SECRET",
        "consumer_key",
        "consumer_secret",
        "consumer key and secret",
    ),
    "basic": (
        "NEXTCALLER_API_USERNAME",
        "NEXTCALLER_API_PASSWORD",
        "api_username",
        "api_password",
        "API username and password",
    ),
}


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

# The consumer key (or API username) travels in every request: it identifies, it is not secret.
_NOT_SECRET = frozenset({"consumer_key", "api_username"})


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


def _login_action(auth: str) -> Action:
    return Action.LOGIN_BASIC if auth == "basic" else Action.LOGIN


def load_credentials(
    profile: str = "default", env: Mapping[str, str] | None = None, auth: str | None = None
) -> Credentials:
    """Env first, then the keyring entry of ``profile``; a clear error when neither has both.

    ``auth`` (``oauth1`` or ``basic``) says which kind; by default the profile's
    setting (``auth`` in config.toml, ``NEXTCALLER_AUTH``, or its API version's own).
    """
    env = os.environ if env is None else env
    if auth is None:
        from .config import load_settings

        auth = load_settings(profile, env=env).auth
    if auth not in CREDENTIAL_NAMES:
        raise CredentialsError(f"unknown auth kind {auth!r}", hint="use oauth1 or basic")
    key_var, secret_var, key_name, secret_name, words = CREDENTIAL_NAMES[auth]
    action = _login_action(auth)
    key, secret = env.get(key_var), env.get(secret_var)
    if key and secret:
        return Credentials(key, secret, source="env", auth=auth)
    if key or secret:
        missing = secret_var if key else key_var
        raise CredentialsError(
            f"{missing} is not set (its partner is)",
            hint="set both variables, or unset both to use the keyring",
            action=action,
        )
    key = get_secret(profile, key_name)
    secret = get_secret(profile, secret_name) if key else None
    if not key or not secret:
        raise CredentialsError(f"no {words} stored for profile {profile!r}", action=action)
    return Credentials(key, secret, source="keyring", auth=auth)


def store_credentials(profile: str, consumer_key: str, consumer_secret: str, auth: str = "oauth1") -> None:
    """Keep the pair in the keyring under ``profile`` (for Basic: the API username and password)."""
    if auth not in CREDENTIAL_NAMES:
        raise CredentialsError(f"unknown auth kind {auth!r}", hint="use oauth1 or basic")
    _, _, key_name, secret_name, words = CREDENTIAL_NAMES[auth]
    if not consumer_key or not consumer_secret:
        raise CredentialsError(
            f"both parts of the {words} are needed",
            hint="run `nextcaller-ops login` and enter both",
            action=_login_action(auth),
        )
    set_secret(profile, key_name, consumer_key)
    set_secret(profile, secret_name, consumer_secret)


def delete_credentials(profile: str) -> bool:
    """Remove every kind of API credentials ``profile`` has in the keyring."""
    names = [n for kind in CREDENTIAL_NAMES.values() for n in kind[2:4]]
    removed = [delete_secret(profile, n) for n in names]
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


# -- the audit log's key (keyed hashes of numbers: NEXTCALLER_OPS_AUDIT_NUMBERS=hash, forget records) --

AUDIT_PROFILE, AUDIT_KEY_NAME = "audit", "hmac_key"
_audit_key_lock = threading.Lock()


def audit_key() -> bytes:
    """``NEXTCALLER_OPS_AUDIT_KEY``, else the keyring's key, made (32 random bytes, hex) and kept on first use."""
    import secrets

    env = os.environ.get("NEXTCALLER_OPS_AUDIT_KEY")
    if env:
        register_secret(env)
        return env.encode("utf-8")
    with _audit_key_lock:  # two threads' first use make one key
        key = get_secret(AUDIT_PROFILE, AUDIT_KEY_NAME)
        if not key:
            key = secrets.token_hex(32)
            set_secret(AUDIT_PROFILE, AUDIT_KEY_NAME, key)
        return key.encode("utf-8")


def _register_audit_key() -> None:
    from .stores.at_rest import set_key_provider

    set_key_provider(audit_key)


_register_audit_key()
