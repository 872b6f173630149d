"""Re-reading the secrets of a running bot (SIGHUP): the Slack tokens and the API credentials, no restart.

Where they are read from, as at start: the environment file named by ``NEXTCALLER_OPS_ENV_FILE``
(the file systemd's ``EnvironmentFile=`` or compose's ``env_file:`` loads — a process's
environment is fixed when it starts, the file is not), then the process's environment, then
the keyring (``nextcaller-ops login`` / ``slack-login``).

- Socket Mode and ``bot --http``: SIGHUP calls :meth:`Rotation.reread` (on a thread of its own).
  Nothing in flight is dropped: a request being answered finishes with the token it started
  with; the next Web API call, the next request's signature check and the next API request use
  the new secrets.
- gunicorn: SIGHUP is gunicorn's own reload: it starts new workers, which build the app anew
  (:func:`load_env_file` first), and lets the old ones finish their requests.
- The API answering 1046 (unknown consumer key) or 1049 (expired) makes the client re-read its
  credentials once before failing (:meth:`Rotation.reread_api_credentials`, the client's hook).

The app-level token (``SLACK_APP_TOKEN``, Socket Mode) is read when a connection opens.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from slack_bolt import App

from nextcaller_ops.credentials import CREDENTIAL_NAMES, SLACK_SECRET_NAMES
from nextcaller_ops.errors import NextCallerError, UsageError

from .services import Services

__all__ = ["ENV_FILE_SETTING", "SECRET_VARIABLES", "read_env_file", "load_env_file", "Rotation"]

log = logging.getLogger("bot.rotation")

ENV_FILE_SETTING = "NEXTCALLER_OPS_ENV_FILE"
# The secrets a re-read takes from the environment file: the Slack ones and the API's (both schemes).
SECRET_VARIABLES = frozenset(
    [*SLACK_SECRET_NAMES, *(name for names in CREDENTIAL_NAMES.values() for name in names[:2])]
)


def read_env_file(path: str | os.PathLike) -> dict[str, str]:
    """``NAME=value`` lines (systemd's EnvironmentFile and compose's env_file syntax: ``#`` comments,
    blank lines, optional ``export`` and quotes); a file that cannot be read is one clear error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"{ENV_FILE_SETTING}: cannot read {path} ({exc.strerror or type(exc).__name__})",
            hint="point it at the bot's environment file (readable by the bot's user), or unset it",
        ) from None
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def load_env_file(env: MutableMapping[str, str] | None = None) -> list[str]:
    """The secrets in ``NEXTCALLER_OPS_ENV_FILE`` put into ``env`` (default: this process's); the names that changed."""
    from nextcaller_ops.redact import register_secret

    env = os.environ if env is None else env
    path = env.get(ENV_FILE_SETTING)
    if not path:
        return []
    changed = []
    for name, value in read_env_file(path).items():
        if name in SECRET_VARIABLES and value and env.get(name) != value:
            register_secret(value)  # before anything can log it
            env[name] = value
            changed.append(name)
    return changed


class Rotation:
    """Swaps the secrets a running app and its services use, in place."""

    def __init__(self, app: App, services: Services):
        self.app = app
        self.services = services
        self._lock = threading.Lock()

    def reread(self) -> list[str]:
        """Read every secret again and use the ones that changed; what changed (names, never values)."""
        from .settings import BotSettings

        with self._lock:
            load_env_file()
            settings = BotSettings.from_env()
            changed = []
            if settings.bot_token and settings.bot_token != self.services.web.token:
                self._use_bot_token(settings.bot_token)
                changed.append("SLACK_BOT_TOKEN")
            if settings.signing_secret and settings.signing_secret != getattr(self.app, "_signing_secret", None):
                self._use_signing_secret(settings.signing_secret)
                changed.append("SLACK_SIGNING_SECRET")
            if self._reload_api_credentials():
                changed.append("the API credentials")
        log.info("secrets re-read: %s", ", ".join(changed) + " changed" if changed else "nothing changed")
        return changed

    def reread_api_credentials(self) -> bool:
        """The client's hook on 1046/1049: the environment file, the environment, the keyring again."""
        with self._lock:
            load_env_file()
            changed = self._reload_api_credentials()
        log.info("API credentials re-read after a refusal: %s", "new ones in use" if changed else "unchanged")
        return changed

    def install_refused_key_hook(self) -> None:
        """1046/1049 from the API: the environment file too, not only the environment and the keyring."""
        self.services.client.transport.on_refused_key = self.reread_api_credentials

    def install_sighup(self) -> None:
        """SIGHUP re-reads (main thread only; the work runs on a thread of its own, not in the handler)."""

        def on_sighup(*_: Any) -> None:
            threading.Thread(target=self._reread_quietly, name="sighup-reread", daemon=True).start()

        signal.signal(signal.SIGHUP, on_sighup)

    def _reread_quietly(self) -> None:
        try:
            self.reread()
        except NextCallerError as exc:  # e.g. the file is unreadable: the old secrets stay in use
            log.warning("SIGHUP: secrets not re-read: %s", exc)
        except Exception as exc:  # a signal handler's thread must not die with a traceback on stderr
            log.warning("SIGHUP: secrets not re-read (%s)", type(exc).__name__)

    def _use_bot_token(self, token: str) -> None:
        web = self.services.web
        web.token = token  # the services' own calls (outbox, triage, Home)
        self.app._token = token  # each request's context.client is built from it (Bolt's App.dispatch)
        for middleware in getattr(self.app, "_middleware_list", []):
            if hasattr(middleware, "auth_test_result"):  # SingleTeamAuthorization: auth.test again, with it
                middleware.auth_test_result = None

    def _use_signing_secret(self, secret: str) -> None:
        from slack_sdk.signature import SignatureVerifier

        self.app._signing_secret = secret
        for middleware in getattr(self.app, "_middleware_list", []):
            if hasattr(middleware, "verifier"):  # RequestVerification
                middleware.verifier = SignatureVerifier(secret)

    def _reload_api_credentials(self) -> bool:
        return self.services.client.reload_credentials()  # the client swaps what signs its requests
