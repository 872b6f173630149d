"""Everything that can go wrong, as one tree a person can act on.

An error carries data, not user-interface words: the API's ``code`` (when there
is one), what happened (``message``), a surface-neutral ``hint`` about why, and
an :class:`Action` — what kind of thing the person must do about it.  Each
surface phrases the action for its own user (:func:`describe` with the CLI's,
the notebook's or the bot's wording): "run `nextcaller-ops login`" in a terminal,
"%nextcaller_login" in a notebook, "an admin has been told" in Slack.

``str(err)`` is ``[code] message — hint``.  Messages never contain secrets;
phone numbers in them are masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import ModuleType
from typing import Any

from .redact import mask_input

__all__ = [
    "Action",
    "describe",
    "NextCallerError",
    "InvalidPhoneError",
    "UsageError",
    "CredentialsError",
    "InsecureTransportError",
    "MissingExtraError",
    "require",
    "missing_extra",
    "KeyringUnavailableError",
    "APIError",
    "AuthError",
    "InvalidConsumerKeyError",
    "InactiveConsumerKeyError",
    "MissingConsumerKeyError",
    "ExpiredConsumerKeyError",
    "InvalidSignatureError",
    "InvalidCredentialsError",
    "NeedsNewerAPIError",
    "BillingError",
    "ExpiredTrialError",
    "InvalidPhoneNumberAPIError",
    "InvalidProfileIdError",
    "InvalidEmailAPIError",
    "NotFoundError",
    "RateLimitError",
    "ValidationError",
    "ServerError",
    "BadResponseError",
    "TransportError",
    "APIUnreachableError",
    "APITimeoutError",
    "FATAL_FOR_BATCH",
]


class Action(StrEnum):
    """What a person must do about an error; each surface words it for its own user."""

    NONE = "none"  # nothing to do (e.g. the API has no record)
    FIX_INPUT = "fix_input"  # the input was wrong: the hint says how
    LOGIN = "login"  # the consumer key or secret is missing or wrong: log in again
    LOGIN_BASIC = "login_basic"  # the API username or password (Basic auth, v2.1) is missing or wrong
    USE_V21 = "use_v21"  # asked for something only API v2.1 offers, on a v2 profile
    NEW_KEY = "new_key"  # the key has expired: log in with a new one
    DASHBOARD = "dashboard"  # the account needs attention in the Next Caller dashboard
    KEYRING = "keyring"  # no usable OS keyring: env variables or a backend
    WAIT = "wait"  # rate limited: wait, ask less at once
    RETRY_LATER = "retry_later"  # the API is having trouble
    CHECK_URL = "check_url"  # the answer was not the API's: wrong base URL, proxy, portal
    CHECK_NETWORK = "check_network"  # no connection at all
    RAISE_TIMEOUT = "raise_timeout"  # the API is slow
    USE_HTTPS = "use_https"  # a plain http:// base URL to another machine would send credentials in clear


def describe(exc: NextCallerError, advice: Mapping[Action, str]) -> str:
    """``str(exc)`` followed by what to do, in the words of one surface (``advice``)."""
    words = advice.get(exc.action, "")
    return f"{exc} — {words}" if words else str(exc)


class NextCallerError(Exception):
    """Base of every error this package raises on purpose."""

    hint: str = ""
    code: int | None = None
    action: Action = Action.NONE

    def __init__(self, message: str, *, hint: str | None = None, code: int | None = None, action: Action | None = None):
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if code is not None:
            self.code = code
        if action is not None:
            self.action = action

    def __str__(self) -> str:
        head = f"[{self.code}] " if self.code is not None else ""
        tail = f" — {self.hint}" if self.hint else ""
        return f"{head}{self.message}{tail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class UsageError(NextCallerError):
    """Input refused before any request was made."""

    action = Action.FIX_INPUT


class InvalidPhoneError(UsageError, ValueError):
    hint = "give a 10-digit US number, e.g. 212-555-8383 (an extension like x12 is allowed)"

    def __init__(self, reason: str, *, value: str = ""):
        shown = mask_input(value)
        where = f" {shown!r}" if shown else ""
        super().__init__(f"not a phone number{where}: {reason}")
        self.reason = reason


class CredentialsError(NextCallerError):
    action = Action.LOGIN


class InsecureTransportError(UsageError):
    """An ``http://`` base URL on a host that is not this machine: refused before any request.

    v2.1's HTTP Basic sends the password itself in every request, and v2's OAuth
    signatures and the answers (PII) would cross the network in clear.
    ``NEXTCALLER_ALLOW_INSECURE_HTTP=1`` allows it (a lab proxy).
    """

    action = Action.USE_HTTPS
    hint = "it would send the API credentials and the records in clear"

    def __init__(self, where: str, shown_url: str):
        super().__init__(f"{where} is {shown_url}: plain http to another machine")
        self.where = where


class NeedsNewerAPIError(UsageError):
    """Asked for something only API v2.1 offers (email, name and address, fraud level, a profile by id) on v2."""

    action = Action.USE_V21

    def __init__(self, what: str):
        super().__init__(
            f"{what} needs API v2.1; this profile speaks v2",
            hint="API v2.1 (HTTP Basic auth) offers lookups by email, by name and address, fraud levels and profiles by id",
        )
        self.what = what


class MissingExtraError(UsageError):
    """A surface needs a package that one of the install's extras brings, and it is not installed.

    ``str()`` is the whole sentence, e.g. "the Slack bot needs the [slack] extra:
    pip install 'nextcaller-ops[slack]'"; ``otherwise`` adds what else would do
    ("or unset NEXTCALLER_OPS_REDIS_URL …").
    """

    def __init__(self, extra: str, what: str, *, missing: str = "", otherwise: str = ""):
        super().__init__(f"{what} needs the [{extra}] extra")
        self.extra = extra
        self.what = what
        self.missing = missing  # the module that could not be imported, for a log or a test
        self.otherwise = otherwise

    def __str__(self) -> str:
        tail = f", or {self.otherwise}" if self.otherwise else ""
        return f"{self.message}: pip install 'nextcaller-ops[{self.extra}]'{tail}"


def require(module: str, extra: str, what: str, *, otherwise: str = "") -> ModuleType:
    """``import module``, or the :class:`MissingExtraError` naming the extra that brings it.

    >>> bolt = require("slack_bolt", "slack", "the Slack bot")  # doctest: +SKIP
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(extra, what, missing=module, otherwise=otherwise) from None


def missing_extra(modules: Iterable[str], extra: str, what: str) -> MissingExtraError | None:
    """The error (not raised) when one of ``modules`` is not installed, else None: for a step that is skipped.

    Only looks (``importlib.util.find_spec``): nothing is imported.
    """
    import importlib.util

    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or a module hidden in sys.modules
            found = False
        if not found:
            return MissingExtraError(extra, what, missing=module)
    return None


class KeyringUnavailableError(CredentialsError):
    action = Action.KEYRING
    hint = (
        "no usable OS keyring here: set NEXTCALLER_CONSUMER_KEY and NEXTCALLER_CONSUMER_SECRET, "
        "or install a keyring backend (e.g. `pip install keyrings.alt`)"
    )


class APIError(NextCallerError):
    """The API answered, and the answer was an error."""

    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        hint: str | None = None,
        details: dict[str, Any] | None = None,
    ):
        super().__init__(message, hint=hint, code=code)
        self.status = status
        self.details = details or {}


class AuthError(APIError):
    action = Action.LOGIN
    hint = "the API refused the consumer key or secret"


class InvalidConsumerKeyError(AuthError):
    code = 1046
    hint = "the consumer key is not known to the API"


class InactiveConsumerKeyError(AuthError):
    code = 1047
    action = Action.DASHBOARD
    hint = "the consumer key and secret are inactive — activate them in your Next Caller dashboard"


class MissingConsumerKeyError(AuthError):
    code = 1048
    hint = "no consumer key was sent"


class ExpiredConsumerKeyError(AuthError):
    code = 1049
    action = Action.NEW_KEY
    hint = "the consumer key has expired"


class InvalidSignatureError(AuthError):
    hint = (
        "the API refused the request's signature — the consumer secret is probably wrong, "
        "or this machine's clock is off (sync it with NTP)"
    )


class InvalidCredentialsError(AuthError):
    """HTTP Basic auth (v2.1) refused: there is no signature or consumer key, only a username and password."""

    action = Action.LOGIN_BASIC
    hint = "the API refused the API username or password"


class BillingError(APIError):
    code = 8643
    action = Action.DASHBOARD
    hint = "billing failed for this account — update the payment details in your Next Caller dashboard"


class ExpiredTrialError(APIError):
    code = 8644
    action = Action.DASHBOARD
    hint = "the free trial has ended — upgrade the account in your Next Caller dashboard"


class InvalidPhoneNumberAPIError(APIError):
    code = 555
    action = Action.FIX_INPUT
    hint = "the API wants exactly 10 digits, no extension"


class InvalidProfileIdError(APIError):
    code = 405
    action = Action.FIX_INPUT
    # The API's message already says no profile has the id ("Invalid UID: no profile has this id."): the hint
    # says only what to do, or the line repeats itself (issue 24, defect 7)
    hint = "check the id: ids come from a lookup's `id` field (30 hex characters)"


class InvalidEmailAPIError(APIError):
    code = 560
    action = Action.FIX_INPUT
    hint = "the API could not read that email address"


class NotFoundError(APIError):
    hint = "the API has no record for this number"


class RateLimitError(APIError):
    code = 1061
    action = Action.WAIT
    hint = "too many requests"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ValidationError(APIError):
    code = 1054
    action = Action.FIX_INPUT
    hint = "fix the fields named and send the correction again"

    def __str__(self) -> str:
        base = super().__str__()
        if not self.details:
            return base
        fields = "; ".join(f"{k}: {v}" for k, v in self.details.items())
        return f"{base} ({fields})"


class ServerError(APIError):
    action = Action.RETRY_LATER
    hint = "the API is having trouble — try again in a minute"


class BadResponseError(APIError):
    action = Action.CHECK_URL
    hint = "the answer was not the API's JSON or XML (a proxy or captive portal?)"
    body: str | None = None  # the text as received, when it is worth showing (``--format xml``)


class TransportError(NextCallerError):
    """No answer from the API at all."""

    action = Action.CHECK_NETWORK


class APIUnreachableError(TransportError):
    pass


class APITimeoutError(TransportError):
    action = Action.RAISE_TIMEOUT
    hint = "the API did not answer in time"


# Errors that every further request of a batch would hit too: a batch stops at the first.
FATAL_FOR_BATCH: tuple[type[NextCallerError], ...] = (AuthError, BillingError, ExpiredTrialError)
