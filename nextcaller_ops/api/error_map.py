"""The API's error answers -> the error tree: the class follows the API's code, then the HTTP status.

v2 writes codes as numbers, v2.1 as strings (``"1061"``, ``"1054"`` with a
``description`` of field -> messages); both land on the same classes.
"""

from __future__ import annotations

from typing import Any

from ..errors import (
    APIError,
    AuthError,
    BadResponseError,
    BillingError,
    ExpiredConsumerKeyError,
    ExpiredTrialError,
    InactiveConsumerKeyError,
    InvalidConsumerKeyError,
    InvalidEmailAPIError,
    InvalidPhoneNumberAPIError,
    InvalidProfileIdError,
    InvalidSignatureError,
    MissingConsumerKeyError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
)

__all__ = ["error_from_response"]


_BY_CODE: dict[int | None, type[APIError]] = {
    cls.code: cls
    for cls in (
        InvalidConsumerKeyError,
        InactiveConsumerKeyError,
        MissingConsumerKeyError,
        ExpiredConsumerKeyError,
        BillingError,
        ExpiredTrialError,
        InvalidPhoneNumberAPIError,
        InvalidProfileIdError,
        InvalidEmailAPIError,
        RateLimitError,
        ValidationError,
    )
}
# v2.1 answers a query that fails validation (a name-and-address lookup) with 422 and field messages.
_VALIDATION_CODES = frozenset({422})

_MAX_MESSAGE = 300


def error_from_response(status: int, body: Any, *, retry_after: float | None = None) -> APIError:
    """Build the right error from an HTTP status and a decoded error body.

    ``body`` is the decoded ``{"error": {...}}`` document (or ``None`` when the
    body was not the API's).  The class follows the API's code first, then the
    HTTP status.  v2 writes the code as a number (``555``), v2.1 as a string
    (``"555"``); v2.1 names the fields at fault in ``description`` (field ->
    list of messages), which become the error's ``details``.
    """
    err = body.get("error") if isinstance(body, dict) else None
    code: int | None = None
    message = ""
    details: dict[str, Any] = {}
    if isinstance(err, dict):
        raw_code = err.get("code")
        try:
            code = int(raw_code) if raw_code is not None else None
        except (TypeError, ValueError):
            code = None
        message = str(err.get("message") or "")[:_MAX_MESSAGE]
        raw_details = err.get("details") or err.get("fields") or err.get("description")
        if isinstance(raw_details, dict):
            details = {
                str(k)[:80]: (", ".join(map(str, v)) if isinstance(v, list) else str(v))[:_MAX_MESSAGE]
                for k, v in list(raw_details.items())[:20]
            }
    cls: type[APIError]
    if code in _BY_CODE:
        cls = _BY_CODE[code]
    elif code in _VALIDATION_CODES or status == 422:
        cls = ValidationError
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
    if cls is ValidationError and code != ValidationError.code:
        kwargs["hint"] = "the API refused the fields named — fix them and ask again"
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
