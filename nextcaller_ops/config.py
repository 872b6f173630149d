"""Non-secret settings: base URL, API version, timeouts, cache — from env and config.toml.

Precedence (highest first): explicit arguments, environment variables, the
profile's table in ``config.toml``, the built-in defaults.  Secrets never live
here; they are in the keyring (see :mod:`nextcaller_ops.credentials`).

``config.toml`` lives in the platform's config dir (``platformdirs``), or in
``$NEXTCALLER_OPS_CONFIG_DIR`` when that is set::

    profile = "default"            # the profile used when none is named

    [profiles.default]
    base_url = "https://api.nextcaller.com"
    timeout = 10

    [profiles.reseller]            # API v2.1 with HTTP Basic auth, for one end customer
    api_version = "v2.1"
    auth = "basic"                 # the default on v2.1; "oauth1" is v2's (and the default there)
    account_id = "acme"            # sent as Nc-Account-Id on every call (platform accounts)
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import InsecureTransportError, UsageError

__all__ = [
    "Settings",
    "load_settings",
    "config_dir",
    "data_dir",
    "config_path",
    "env_number",
    "save_profile_settings",
    "chosen_profile",
    "default_profile",
    "forget_default_profile",
    "DEFAULT_BASE_URL",
    "API_VERSIONS",
    "AUTH_KINDS",
    "ACCOUNT_ID_RE",
    "ALLOW_INSECURE_HTTP",
    "check_secure_base_url",
    "is_loopback_host",
]

DEFAULT_BASE_URL = "https://api.nextcaller.com"
APP_NAME = "nextcaller-ops"
API_VERSIONS = ("v2", "v2.1")
# OAuth 1.0a is v2's scheme, HTTP Basic (API username and password) v2.1's: each version's default.
AUTH_KINDS = ("oauth1", "basic")
_DEFAULT_AUTH = {"v2": "oauth1", "v2.1": "basic"}
# A platform (reseller) account names its end customer: Next Caller's clients take letters and digits.
ACCOUNT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Plain http:// to another machine is refused (credentials in clear) unless this is 1: a lab proxy.
ALLOW_INSECURE_HTTP = "NEXTCALLER_ALLOW_INSECURE_HTTP"


@dataclass(frozen=True)
class Settings:
    profile: str = "default"
    base_url: str = DEFAULT_BASE_URL
    api_version: str = "v2"  # "v2" (the seed document's) or "v2.1"
    auth: str = ""  # "oauth1" or "basic"; empty = the version's own (load_settings fills it in)
    account_id: str | None = None  # platform accounts: the end customer, sent as Nc-Account-Id
    timeout: float = 10.0  # seconds, per attempt (connect and read)
    max_retries: int = 3  # after the first attempt
    max_retry_wait: float = 30.0  # cap on any single back-off or Retry-After
    cache_ttl: float = 300.0  # seconds a found record is reused
    miss_ttl: float = 30.0  # seconds a "no record" answer is reused
    cache_max_entries: int = 10_000  # in memory (LRU); ~2 KB each, so ~20 MB at most
    concurrency: int = 8
    cache_path: str | None = None  # opt-in persistent cache (SQLite)
    # Shared state for many processes (see stores/ and shared_redis.py); URLs may hold a password.
    database_url: str | None = field(default=None, repr=False)
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "nextcaller-ops"  # several deployments on one Redis keep apart
    max_rps: float | None = None  # requests/s to the API at most (pacing.py); None: the API's own limit

    def __post_init__(self) -> None:
        if not self.auth:  # the version's own scheme; load_settings checks both
            object.__setattr__(self, "auth", _DEFAULT_AUTH.get(_version_name(self.api_version), "oauth1"))

    @property
    def api_root(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.api_version.strip('/')}"


_ENV = {
    "NEXTCALLER_BASE_URL": "base_url",
    "NEXTCALLER_PROFILE": "profile",
    "NEXTCALLER_API_VERSION": "api_version",
    "NEXTCALLER_AUTH": "auth",
    "NEXTCALLER_ACCOUNT_ID": "account_id",
    "NEXTCALLER_TIMEOUT": "timeout",
    "NEXTCALLER_CACHE_PATH": "cache_path",
    "NEXTCALLER_OPS_DATABASE_URL": "database_url",
    "NEXTCALLER_OPS_REDIS_URL": "redis_url",
    "NEXTCALLER_OPS_REDIS_PREFIX": "redis_prefix",
    "NEXTCALLER_OPS_MAX_RPS": "max_rps",
}


# Durations as people write them: 90s, 30m, 2h, 1d, 2w (one parser: `audit purge --older-than`, the bot's timers).
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*")


def parse_duration(text: str) -> float:
    """Seconds for a number and a unit (``90s``, ``30m``, ``2h``, ``1d``, ``2w``); ValueError otherwise or for 0."""
    match = _DURATION.fullmatch(text.lower())
    if not match:
        raise ValueError("not a duration: give a number and a unit, e.g. 90s, 30m, 2h or 1d")
    seconds = float(match[1]) * DURATION_UNITS[match[2]]
    if seconds <= 0:
        raise ValueError("a duration must be longer than 0")
    return seconds


def env_duration(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration from the environment (seconds); a value that is not one is a usage error naming the variable."""
    raw = env.get(name)
    if not raw or not raw.strip():
        return default
    try:
        return parse_duration(raw)
    except ValueError as exc:
        raise UsageError(
            f"{name}={raw[:40]!r}: {exc}", hint=f"set {name} to e.g. 90s, 30m, 2h or 1d, or unset it"
        ) from None


def env_number(env: Mapping[str, str], name: str, default: float, kind: type = int):
    """A number from the environment; a value that is not one is a usage error naming the variable."""
    raw = env.get(name)
    if not raw:
        return kind(default)
    try:
        return kind(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a number", hint=f"set {name} to a number, or unset it") from None


def config_dir() -> Path:
    override = os.environ.get("NEXTCALLER_OPS_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Where the audit log, outbox and persistent cache live (created 0700)."""
    override = os.environ.get("NEXTCALLER_OPS_DATA_DIR")
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def config_path() -> Path:
    return config_dir() / "config.toml"


def _read_config() -> dict[str, Any]:
    path = config_path()
    try:
        with path.open("rb") as fh:
            import tomllib  # here: most runs have no file, and start-up counts (issue 25)

            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (ValueError, OSError) as exc:  # tomllib.TOMLDecodeError, UnicodeDecodeError (TOML is UTF-8): ValueErrors
        raise UsageError(
            f"cannot read {path}: {exc}", hint="fix or delete the file; `nextcaller-ops login` writes a fresh one"
        ) from None


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = kinds[name]
    try:
        if kind == "float":
            return float(value)
        if kind == "int":
            return int(value)
        if kind == "float | None" and value not in (None, ""):
            number = float(value)
            if not 0 < number < float("inf"):
                raise ValueError(value)
            return number
    except (TypeError, ValueError):
        var = next((v for v, k in _ENV.items() if k == name), None)
        raise UsageError(
            f"setting {name!r}{f' ({var})' if var else ''} must be "
            f"{'a number above 0' if kind == 'float | None' else 'a number'}, not {value!r}",
            hint=f"fix it in {config_path()} or the environment",
        ) from None
    return None if value in (None, "") and kind.endswith("None") else str(value)


def chosen_profile(given: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The one rule every surface chooses a profile by: the one named (a flag), then ``NEXTCALLER_PROFILE``,
    then the config's default (``profile = …``, set only by ``login --make-default``), then ``default``.

    Login stores where lookups will read because both ask this.
    """
    env = os.environ if env is None else env
    return given or env.get("NEXTCALLER_PROFILE") or str(_read_config().get("profile") or "") or "default"


def default_profile() -> str | None:
    """The config's default profile (``profile = …`` in config.toml), None when it names none."""
    return str(_read_config().get("profile") or "") or None


def load_settings(profile: str | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if env is None else env
    data = _read_config()
    chosen = chosen_profile(profile, env)
    values: dict[str, Any] = {"profile": chosen}
    table = (data.get("profiles") or {}).get(chosen) or {}
    known = {f.name for f in fields(Settings)}
    for key, value in table.items():
        if key in known and key != "profile":
            values[key] = _coerce(key, value)
    for var, key in _ENV.items():
        if env.get(var) and key != "profile":
            values[key] = _coerce(key, env[var])
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, value)
    settings = _checked_api(Settings(**values))
    if not settings.base_url.startswith(("http://", "https://")):
        raise UsageError(
            f"base URL {settings.base_url!r} is not an http(s) URL",
            hint="set NEXTCALLER_BASE_URL or `nextcaller-ops login --base-url`",
        )
    check_secure_base_url(settings.base_url, _base_url_source(table, env, overrides), env)
    base = settings.base_url.rstrip("/")
    for version in sorted(("/" + v for v in API_VERSIONS), key=len, reverse=True):
        if base.endswith(version):  # the root is wanted; ".../v2" is a common slip
            base = base[: -len(version)]
            break
    return replace(settings, base_url=base)


def _base_url_source(table: Mapping[str, Any], env: Mapping[str, str], overrides: Mapping[str, Any]) -> str:
    """Where the base URL in force was set, in the words a person would look for (highest precedence first)."""
    if overrides.get("base_url") is not None:
        return "--base-url"
    if env.get("NEXTCALLER_BASE_URL"):
        return "NEXTCALLER_BASE_URL"
    if table.get("base_url"):
        return f"base_url in {config_path()}"
    return "the base URL"


def is_loopback_host(host: str) -> bool:
    """True for this machine's loopback: ``localhost``, 127.0.0.0/8, ``::1`` (names are not resolved)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_http_allowed(env: Mapping[str, str] | None = None) -> bool:
    """``NEXTCALLER_ALLOW_INSECURE_HTTP=1`` in ``env`` or in the process (``login`` reads settings with ``env={}``)."""
    value = (env or {}).get(ALLOW_INSECURE_HTTP) or os.environ.get(ALLOW_INSECURE_HTTP) or ""
    return value.strip().lower() in ("1", "true", "yes", "on")


def check_secure_base_url(url: str, where: str = "the base URL", env: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`InsecureTransportError`) a plain ``http://`` URL to a host that is not loopback.

    HTTP Basic (v2.1) would send the password itself, OAuth 1.0a its signatures, and
    the API its records, in clear.  Checked before any request: when settings are
    loaded (naming ``where`` they came from) and when a transport is built.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or is_loopback_host(parts.hostname or "") or insecure_http_allowed(env):
        return
    host = parts.hostname or ""
    shown = f"http://{f'[{host}]' if ':' in host else host}"
    try:
        shown += f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port: the host alone says which
        pass
    raise InsecureTransportError(where, shown)  # never the whole URL: it may hold a user and password


def _version_name(text: str) -> str:
    version = text.strip().strip("/").lower()
    return version if version.startswith("v") else "v" + version  # "2.1" is how Next Caller's clients write it


def _checked_api(settings: Settings) -> Settings:
    """The API version, the auth kind (the version's own when unset) and the account id, checked."""
    version = _version_name(settings.api_version)
    if version not in API_VERSIONS:
        raise UsageError(
            f"API version {settings.api_version!r} is not one this tool speaks",
            hint="use v2 or v2.1 (api_version in config.toml, NEXTCALLER_API_VERSION or `login --api-version`)",
        )
    auth = (settings.auth or _DEFAULT_AUTH[version]).strip().lower()
    if auth not in AUTH_KINDS:
        raise UsageError(
            f"auth {settings.auth!r} is not one this tool speaks",
            hint="use oauth1 or basic (auth in config.toml, NEXTCALLER_AUTH or `login --auth`)",
        )
    account = (settings.account_id or "").strip() or None
    if account is not None and not ACCOUNT_ID_RE.match(account):
        raise UsageError(
            f"account id {account[:70]!r} is not one the API takes",
            hint="a platform account id is letters, digits, '-' or '_' (at most 64)",
        )
    return replace(settings, api_version=version, auth=auth, account_id=account)


def save_profile_settings(profile: str, make_default: bool = False, **values: Any) -> Path:
    """Write non-secret values for ``profile`` into config.toml (0600); ``make_default``: make it the default.

    A profile becomes the default only when asked (``--make-default``): a first
    login that silently became the default sent later lookups elsewhere.
    """
    data = _read_config()
    profiles = data.setdefault("profiles", {})
    table = profiles.setdefault(profile, {})
    table.update({k: v for k, v in values.items() if v is not None})
    if make_default:
        data["profile"] = profile
    return _write_config(data)


def forget_default_profile(profile: str) -> bool:
    """Stop ``profile`` being the config's default (its logout); True when it was."""
    data = _read_config()
    if data.get("profile") != profile:
        return False
    del data["profile"]
    _write_config(data)
    return True


def _write_config(data: dict[str, Any]) -> Path:
    import tomli_w

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(data, fh)
    os.replace(tmp, path)
    return path
