"""Everything that can go wrong, as one tree a person can act on.

Each class carries a one-line ``hint`` that says what to do.  ``str(err)`` is
the line shown to people: the API's code (when there is one), what happened,
and the hint.  Messages never contain secrets; phone numbers in them are masked.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NextCallerError",
    "InvalidPhoneError",
    "UsageError",
    "CredentialsError",
    "KeyringUnavailableError",
    "APIError",
    "AuthError",
    "InvalidConsumerKeyError",
    "InactiveConsumerKeyError",
    "MissingConsumerKeyError",
    "ExpiredConsumerKeyError",
    "InvalidSignatureError",
    "BillingError",
    "ExpiredTrialError",
    "InvalidPhoneNumberAPIError",
    "InvalidProfileIdError",
    "NotFoundError",
    "RateLimitError",
    "ValidationError",
    "ServerError",
    "BadResponseError",
    "TransportError",
    "APIUnreachableError",
    "APITimeoutError",
    "error_from_response",
]


class NextCallerError(Exception):
    """Base of every error this package raises on purpose."""

    hint: str = ""
    code: int | None = None

    def __init__(self, message: str, *, hint: str | None = None, code: int | None = None):
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        head = f"[{self.code}] " if self.code is not None else ""
        tail = f" — {self.hint}" if self.hint else ""
        return f"{head}{self.message}{tail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class UsageError(NextCallerError):
    """Input refused before any request was made."""


class InvalidPhoneError(UsageError, ValueError):
    hint = "give a 10-digit US number, e.g. 212-555-8383 (an extension like x12 is allowed)"

    def __init__(self, reason: str, *, value: str = ""):
        from .phone import mask  # local: phone imports this module

        shown = mask(value) if sum(c.isdigit() for c in value) >= 7 else (value[:20] if value else "")
        where = f" {shown!r}" if shown else ""
        super().__init__(f"not a phone number{where}: {reason}")
        self.reason = reason


class CredentialsError(NextCallerError):
    hint = "run `nextcaller-ops login`, or set NEXTCALLER_CONSUMER_KEY and NEXTCALLER_CONSUMER_SECRET"


class KeyringUnavailableError(CredentialsError):
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
    hint = "check the consumer key and secret with `nextcaller-ops status`; `nextcaller-ops login` replaces them"


class InvalidConsumerKeyError(AuthError):
    code = 1046
    hint = "the consumer key is not known to the API — run `nextcaller-ops login` with the key from your dashboard"


class InactiveConsumerKeyError(AuthError):
    code = 1047
    hint = "the consumer key and secret are inactive — activate them in your Next Caller dashboard"


class MissingConsumerKeyError(AuthError):
    code = 1048
    hint = "no consumer key was sent — run `nextcaller-ops login` or set NEXTCALLER_CONSUMER_KEY"


class ExpiredConsumerKeyError(AuthError):
    code = 1049
    hint = "the consumer key has expired — run `nextcaller-ops login` with a new key"


class InvalidSignatureError(AuthError):
    hint = (
        "the API refused the request's signature — the consumer secret is probably wrong "
        "(run `nextcaller-ops login`), or this machine's clock is off (sync it with NTP)"
    )


class BillingError(APIError):
    code = 8643
    hint = "billing failed for this account — update the payment details in your Next Caller dashboard"


class ExpiredTrialError(APIError):
    code = 8644
    hint = "the free trial has ended — upgrade the account in your Next Caller dashboard"


class InvalidPhoneNumberAPIError(APIError):
    code = 555
    hint = "the API wants exactly 10 digits, no extension"


class InvalidProfileIdError(APIError):
    code = 405
    hint = "no profile has that id — ids come from a lookup's `id` field (30 hex characters)"


class NotFoundError(APIError):
    hint = "the API has no record for this number"


class RateLimitError(APIError):
    code = 1061
    hint = "too many requests — wait a moment, or lower --concurrency"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ValidationError(APIError):
    code = 1054
    hint = "fix the fields named and send the correction again"

    def __str__(self) -> str:
        base = super().__str__()
        if not self.details:
            return base
        fields = "; ".join(f"{k}: {v}" for k, v in self.details.items())
        return f"{base} ({fields})"


class ServerError(APIError):
    hint = "the API is having trouble — try again in a minute"


class BadResponseError(APIError):
    hint = (
        "the answer was not the API's JSON or XML (a proxy or captive portal?) — "
        "check NEXTCALLER_BASE_URL and try again"
    )


class TransportError(NextCallerError):
    """No answer from the API at all."""


class APIUnreachableError(TransportError):
    hint = "check the network and NEXTCALLER_BASE_URL (`nextcaller-ops status` shows it)"


class APITimeoutError(TransportError):
    hint = "the API did not answer in time — try again, or raise the timeout in config.toml"


_BY_CODE: dict[int, type[APIError]] = {
    cls.code: cls  # type: ignore[misc]
    for cls in (
        InvalidConsumerKeyError,
        InactiveConsumerKeyError,
        MissingConsumerKeyError,
        ExpiredConsumerKeyError,
        BillingError,
        ExpiredTrialError,
        InvalidPhoneNumberAPIError,
        InvalidProfileIdError,
        RateLimitError,
        ValidationError,
    )
}

_MAX_MESSAGE = 300


def error_from_response(status: int, body: Any, *, retry_after: float | None = None) -> APIError:
    """Build the right error from an HTTP status and a decoded error body.

    ``body`` is the decoded ``{"error": {...}}`` document (or ``None`` when the
    body was not the API's).  The class follows the API's code first, then the
    HTTP status.
    """
    err = body.get("error") if isinstance(body, dict) else None
    code: int | None = None
    message = ""
    details: dict[str, Any] = {}
    if isinstance(err, dict):
        try:
            code = int(err.get("code")) if err.get("code") is not None else None
        except (TypeError, ValueError):
            code = None
        message = str(err.get("message") or "")[:_MAX_MESSAGE]
        raw_details = err.get("details") or err.get("fields")
        if isinstance(raw_details, dict):
            details = {
                str(k): (", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in raw_details.items()
            }
    cls: type[APIError]
    if code in _BY_CODE:
        cls = _BY_CODE[code]  # type: ignore[index]
    elif status == 401:
        cls = InvalidSignatureError if "signature" in message.lower() or code is None else AuthError
    elif status == 429:
        cls = RateLimitError
    elif status == 404:
        cls = NotFoundError
    elif status >= 500:
        cls = ServerError
    elif err is None:
        cls = BadResponseError
    else:
        cls = APIError
    if not message:
        message = f"the API answered HTTP {status}"
    kwargs: dict[str, Any] = {"status": status, "details": details}
    if code is not None and code not in _BY_CODE:
        kwargs["code"] = code
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
