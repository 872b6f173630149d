"""The OpenAPI paths and schemas of the sandbox's v2.1 (merged into /openapi.json by :mod:`.openapi`)."""

from __future__ import annotations

from typing import Any

from ..api.models import DEMOGRAPHIC_FIELDS

__all__ = ["V21_SCHEMAS", "V21_SECURITY", "v21_paths"]

_TEXT = {"type": "string"}
_PHONE = {
    "type": "object",
    "required": ["number"],
    "properties": {"number": _TEXT, "carrier": _TEXT, "line_type": _TEXT},
}
_ADDRESS = {
    "type": "object",
    "properties": dict.fromkeys(("line1", "line2", "city", "state", "zip_code", "extended_zip", "country"), _TEXT),
}
_SOCIAL = {
    "type": "object",
    "properties": {"type": _TEXT, "url": _TEXT, "followers": {"type": "integer"}},
}
_RECORD = {
    "type": "object",
    "required": ["id"],
    "properties": {
        **dict.fromkeys(("id", "first_name", "last_name", "name", "language", "email", "department"), _TEXT),
        "fraud_threat": {"type": "string", "enum": ["low", "medium", "high"]},
        "spoof": {"type": "string", "enum": ["true", "false", "unknown"]},
        "member": {"type": "string", "enum": ["true", "false"]},
        "billing_info_on_file": {"type": "string", "enum": ["true", "false"]},
        "phone": {"type": "array", "items": _PHONE},
        "address": {"type": "array", "items": _ADDRESS},
        "social_links": {"type": "array", "items": _SOCIAL},
        **dict.fromkeys(DEMOGRAPHIC_FIELDS, _TEXT),
    },
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": _TEXT,
                "type": _TEXT,
                "code": {"type": "string", "pattern": "^[0-9]+$"},
                "description": {"type": "object", "additionalProperties": {"type": "array", "items": _TEXT}},
            },
        }
    },
}
_FRAUD = {
    "type": "object",
    "required": ["spoofed", "fraud_risk"],
    "properties": {
        "spoofed": {"type": "string", "enum": ["true", "false", "unknown"]},
        "fraud_risk": {"type": "string", "enum": ["low", "medium", "high"]},
    },
}
V21_SCHEMAS = {"RecordV21": _RECORD, "ErrorV21": _ERROR, "FraudLevel": _FRAUD}
V21_SECURITY = {"basic": {"type": "http", "scheme": "basic", "description": "API username and password (v2.1)"}}

_WHY = {
    "400": "Invalid input (555 bad phone, 560 bad email, 1054 validation)",
    "401": "Authentication failed (1048 no credentials, 401 wrong username or password, 1047, 1049)",
    "402": "8643 billing fail",
    "403": "8644 expired trial",
    "404": "Not found (404 no record, 405 invalid UID)",
    "405": "Method not allowed",
    "422": "422 validation error: the name-and-address query's fields",
    "429": "1061 rate limited",
    "503": "Unavailable (--fail-rate)",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}, "application/xml": {}}


def _errors(*codes: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/ErrorV21"}
    return {str(c): {"description": _WHY[str(c)], "content": _json(ref)} for c in codes}


def _query(name: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": {"type": "string", **schema}}


def v21_paths() -> dict[str, Any]:
    records = {
        "type": "object",
        "required": ["records"],
        "properties": {"records": {"type": "array", "items": {"$ref": "#/components/schemas/RecordV21"}}},
    }
    uid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{30}$"}}
    fmt = _query("format", enum=["json", "xml"])
    basic: list[dict[str, list[str]]] = [{"basic": []}]
    account = {"name": "Nc-Account-Id", "in": "header", "required": False, "schema": {"type": "string"}}
    return {
        "/v2.1/records/": {
            "get": {
                "operationId": "getRecordsV21",
                "summary": "Profiles by phone, by email, or by name and address (ZIP, or city and state)",
                "security": basic,
                "parameters": [
                    _query("phone"),
                    _query("email"),
                    *(_query(k) for k in ("first_name", "last_name", "address", "city", "state")),
                    _query("zip_code", pattern="^[0-9]{5}$"),
                    fmt,
                    account,
                ],
                "responses": {
                    "200": {"description": "Records found", "content": _json(records)},
                    **_errors(400, 401, 402, 403, 404, 422, 429, 503),
                },
            }
        },
        "/v2.1/users/{id}/": {
            "get": {
                "operationId": "getUserV21",
                "summary": "One profile by id",
                "security": basic,
                "parameters": [uid, fmt, account],
                "responses": {
                    "200": {"description": "The profile", "content": _json({"$ref": "#/components/schemas/RecordV21"})},
                    **_errors(400, 401, 402, 403, 404, 429, 503),
                },
            },
            "post": {
                "operationId": "updateUserV21",
                "summary": "Post a correction; omitted fields keep their value",
                "security": basic,
                "parameters": [uid, fmt, account],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Correction"}}},
                },
                "responses": {
                    "204": {"description": "Saved (no content)"},
                    **_errors(400, 401, 402, 403, 404, 429, 503),
                },
            },
        },
        "/v2.1/fraud/": {
            "get": {
                "operationId": "getFraudLevel",
                "summary": "Is the number spoofed, and how risky is a call from it",
                "security": basic,
                "parameters": [_query("phone", required=True), fmt, account],
                "responses": {
                    "200": {
                        "description": "The fraud level",
                        "content": _json({"$ref": "#/components/schemas/FraudLevel"}),
                    },
                    **_errors(400, 401, 402, 403, 429, 503),
                },
            }
        },
    }
