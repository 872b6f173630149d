"""The sandbox's API v2.1, as Next Caller's own v2.1 clients expect it.

* HTTP Basic auth (:mod:`.basic`): the API username and password.
* ``GET /v2.1/records/?phone=`` — as v2, in v2.1's record shape (:mod:`.seed_v21`);
  ``?email=`` — by email; ``?first_name=&last_name=&address=&zip_code=`` (or
  ``city`` + ``state``) — by name and address, checked with the clients' rules
  (:mod:`nextcaller_ops.api.queries`): 422 with ``description`` naming the fields.
* ``GET /v2.1/users/ID/`` — one profile; ``POST`` — a correction: 204, no body.
* ``GET /v2.1/fraud/?phone=`` — ``{"spoofed": ..., "fraud_risk": ...}``.
* ``Nc-Account-Id`` (platform accounts) is recorded with each accepted request.

Errors are ``{"error": {"message", "code", "type"}}`` with the code as a string
(``"555"``, ``"1061"``), and ``description`` (field -> list of messages) on
1054 and 422, as the clients' tests show them.
"""

from __future__ import annotations

import hashlib
import json
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ..api.models import PROFILE_ID_RE
from ..api.queries import NAME_ADDRESS_FIELDS, NO_ZIP_NOR_CITY_STATE, check_email, name_address_problems
from ..errors import UsageError
from .basic import check_basic
from .documents import HTTP_FOR_CODE, STATUS_CODES, validate_post
from .seed_v21 import fraud_level, v21_record

if TYPE_CHECKING:
    from email.message import Message

    from .httpd import SandboxHTTPServer

__all__ = ["authenticate", "route", "send_error", "ACCOUNT_HEADER"]


class SandboxHandler(Protocol):
    """What this module uses of the request handler (:class:`.handler.SandboxHandler`)."""

    path: str
    headers: Message
    server: SandboxHTTPServer

    def _send_doc(self, status: int, doc: dict[str, Any], fmt: str, extra: dict[str, str] | None = None) -> None: ...

    def send_response(self, code: int, message: str | None = None) -> None: ...

    def end_headers(self) -> None: ...


ACCOUNT_HEADER = "Nc-Account-Id"
_MESSAGES = {
    555: "The number you have entered is invalid. Please ensure your number contains 10 digits.",
    560: "The email address you have entered is invalid.",
    405: "Invalid UID: no profile has this id.",
    404: "No records found.",
    1046: "Invalid API username.",
    1047: "Inactive API username and password.",
    1048: "No API username and password in request.",
    1049: "Expired API username and password.",
    8643: "Billing fail.",
    8644: "Expired trial.",
    1061: "API calls per second limit is exceeded.",
    1054: "There are validation errors",
    422: "Validation Error",
}
_HTTP = {**HTTP_FOR_CODE, 560: 400, 422: 422, 404: 404}
_NAME_KEYS = frozenset(NAME_ADDRESS_FIELDS)
_REALM = {"WWW-Authenticate": 'Basic realm="nextcaller-sandbox"'}


def send_error(
    handler: SandboxHandler,
    code: int,
    fmt: str,
    *,
    message: str | None = None,
    http: int | None = None,
    details: dict[str, Any] | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    """An error as v2.1 writes it: the code as a string, the HTTP reason as its type, field messages in lists."""
    status = http or _HTTP.get(code, 400)
    kind = "Validation" if code == 1054 else HTTPStatus(status).phrase
    err: dict[str, Any] = {
        "message": message or _MESSAGES.get(code, HTTPStatus(status).phrase + "."),
        "code": str(code),
    }
    err["type"] = kind
    if details:
        err["description"] = {k: v if isinstance(v, list) else [str(v)] for k, v in details.items()}
    handler._send_doc(status, {"error": err}, fmt, extra)


def authenticate(handler: SandboxHandler, method: str, fmt: str) -> str | None:
    """The API username of an accepted request; otherwise the error is sent and None returned."""
    outcome = check_basic(handler.headers.get("Authorization") or "", handler.server.store)
    if outcome.problem == "missing":
        send_error(handler, 1048, fmt, http=401, extra=_REALM)
        return None
    if outcome.problem == "oauth":
        send_error(
            handler,
            1048,
            fmt,
            http=401,
            extra=_REALM,
            message="API v2.1 takes HTTP Basic auth (API username and password), not OAuth.",
        )
        return None
    if outcome.problem is not None:
        send_error(handler, 401, fmt, http=401, extra=_REALM, message="Invalid API username or password.")
        return None
    if outcome.status in STATUS_CODES:
        send_error(handler, STATUS_CODES[outcome.status], fmt)
        return None
    parts = urlsplit(handler.path)
    account = (handler.headers.get(ACCOUNT_HEADER) or "").strip()[:100] or None
    # A fingerprint, never the header: tests can tell a retry sent the same credentials without holding them.
    fingerprint = hashlib.sha256((handler.headers.get("Authorization") or "").encode()).hexdigest()[:16]
    handler.server.record(
        method, parts.path, parts.query, None, auth="basic", account_id=account, credential=fingerprint
    )
    return outcome.username


def route(
    handler: SandboxHandler, method: str, segments: list[str], query: dict[str, list[str]], body: str, fmt: str
) -> None:
    """``segments`` after the version: ``["records"]``, ``["users", ID]``, ``["fraud"]``."""
    reading = method in ("GET", "HEAD")
    if segments == ["records"] and reading:
        _get_records(handler, query, fmt)
    elif segments == ["fraud"] and reading:
        _get_fraud(handler, query, fmt)
    elif len(segments) == 2 and segments[0] == "users" and reading:
        _get_user(handler, segments[1], fmt)
    elif len(segments) == 2 and segments[0] == "users" and method == "POST":
        _post_user(handler, segments[1], body, fmt)
    elif segments[:1] in (["records"], ["users"], ["fraud"]):
        allow = "GET, POST" if segments[:1] == ["users"] else "GET"
        send_error(handler, 405, fmt, http=405, message=f"Method {method} not allowed here.", extra={"Allow": allow})
    else:
        send_error(handler, 404, fmt, http=404, message="Not found.")


def _one(query: dict[str, list[str]], name: str) -> str | None:
    """The parameter's value when it was given exactly once."""
    values = query.get(name) or []
    return values[0] if len(values) == 1 else None


def _phone(query: dict[str, list[str]]) -> str | None:
    phone = _one(query, "phone")
    if phone is None or len(phone) != 10 or not phone.isascii() or not phone.isdigit():
        return None
    return phone


def _records(handler: SandboxHandler, records: list[dict[str, Any]], fmt: str) -> None:
    if not records:
        send_error(handler, 404, fmt, http=404)
        return
    handler._send_doc(200, {"records": [v21_record(r) for r in records]}, fmt)


def _get_records(handler: SandboxHandler, query: dict[str, list[str]], fmt: str) -> None:
    store = handler.server.store
    if "phone" in query:
        phone = _phone(query)
        if phone is None:
            send_error(handler, 555, fmt)
            return
        _records(handler, store.find_by_phone(phone), fmt)
    elif "email" in query:
        try:
            email = check_email(_one(query, "email") or "")
        except UsageError:
            send_error(handler, 560, fmt)
            return
        _records(handler, store.find_by_email(email), fmt)
    elif _NAME_KEYS & set(query):
        fields = {k: v[-1] for k, v in query.items() if k != "format"}
        problems = name_address_problems(fields)
        if problems:
            # The API names the ZIP-or-city-and-state rule under `address`, in its own words.
            described = {
                ("address" if v == NO_ZIP_NOR_CITY_STATE else k): [
                    "zip_code or combination of city and state parameters must be provided."
                    if v == NO_ZIP_NOR_CITY_STATE
                    else f"{v[:1].upper()}{v[1:]}."
                ]
                for k, v in problems.items()
            }
            send_error(handler, 422, fmt, details=described)
            return
        _records(handler, _match_name_address(store.find_by_name(fields["last_name"]), fields), fmt)
    else:
        send_error(handler, 555, fmt)


def _norm(text: Any) -> str:
    return " ".join(str(text or "").replace(".", " ").replace(",", " ").casefold().split())


def _match_name_address(candidates: list[dict[str, Any]], fields: dict[str, str]) -> list[dict[str, Any]]:
    first, street = _norm(fields.get("first_name")), _norm(fields.get("address"))
    zip_code, city, state = _norm(fields.get("zip_code")), _norm(fields.get("city")), _norm(fields.get("state"))
    found = []
    for record in candidates:
        if _norm(record.get("first_name")) != first:
            continue
        for address in record.get("address") or []:
            if _norm(address.get("line1")) != street:
                continue
            if zip_code and _norm(address.get("zip_code")) == zip_code:
                found.append(record)
                break
            if not zip_code and _norm(address.get("city")) == city and _norm(address.get("state")) == state:
                found.append(record)
                break
    return found


def _get_fraud(handler: SandboxHandler, query: dict[str, list[str]], fmt: str) -> None:
    phone = _phone(query)
    if phone is None:
        send_error(handler, 555, fmt)
        return
    handler._send_doc(200, fraud_level(phone, handler.server.store.find_by_phone(phone)), fmt)


def _get_user(handler: SandboxHandler, record_id: str, fmt: str) -> None:
    record = handler.server.store.get(record_id) if PROFILE_ID_RE.match(record_id) else None
    if record is None:
        send_error(handler, 405, fmt)
        return
    handler._send_doc(200, v21_record(record), fmt)


def _post_user(handler: SandboxHandler, record_id: str, body: str, fmt: str) -> None:
    store = handler.server.store
    if not PROFILE_ID_RE.match(record_id) or store.get(record_id) is None:
        send_error(handler, 405, fmt)
        return
    try:
        data = json.loads(body or "null")
    except json.JSONDecodeError:
        send_error(handler, 1054, fmt, details={"body": ["Not valid JSON."]})
        return
    if not isinstance(data, dict) or not data:
        send_error(handler, 1054, fmt, details={"body": ["A JSON object with at least one field is required."]})
        return
    details = validate_post(data)
    if details:
        send_error(handler, 1054, fmt, details={k: [f"{v[:1].upper()}{v[1:]}."] for k, v in details.items()})
        return
    key = (handler.headers.get("Idempotency-Key") or "").strip()[:200] or None
    store.update(record_id, data, time.time(), idempotency_key=key)
    handler.send_response(204)  # no content, no body: as Next Caller's clients expect
    handler.end_headers()
