"""The OpenAPI 3 document of what the sandbox implements (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

from .openapi_v21 import V21_SCHEMAS, V21_SECURITY, v21_paths

_ADDRESS = {
    "type": "object",
    "properties": {
        k: {"type": "string"} for k in ("line1", "line2", "city", "state", "zip_code", "extended_zip", "country")
    },
}
_RECORD = {
    "type": "object",
    "required": ["id"],
    "properties": {
        **{
            k: {"type": "string"}
            for k in ("id", "first_name", "last_name", "name", "language", "email", "carrier", "department")
        },
        "fraud_threat": {"type": "string", "enum": ["low", "medium", "high"]},
        "member": {"type": "string", "enum": ["true", "false"]},
        "billing_info_on_file": {"type": "string", "enum": ["true", "false"]},
        "phone": {
            "type": "array",
            "items": {"type": "object", "required": ["number"], "properties": {"number": {"type": "string"}}},
        },
        "address": {"type": "array", "items": _ADDRESS},
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
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "integer"},
                "details": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}
_SHIPPING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: {"type": "string"} for k in ("line1", "line2", "city", "state", "zip_code")},
}
_CORRECTION = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        **{k: {"type": "string"} for k in ("first_name", "last_name", "email", "phone1", "phone2", "phone3")},
        "shipping_address1": _SHIPPING,
        "shipping_address2": _SHIPPING,
    },
}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    # format=xml answers the same document as <response>...</response>; its shape is described in JSON only.
    return {"application/json": {"schema": schema}, "application/xml": {}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        "400": "Invalid input (555 bad phone, 1054 validation)",
        "401": "Authentication failed "
        "(1046 unknown key, 1047 inactive, 1048 no key, 1049 expired, bad signature/nonce/timestamp)",
        "402": "8643 billing fail",
        "403": "8644 expired trial",
        "404": "Not found (405 invalid UID)",
        "405": "Method not allowed",
        "429": "1061 rate limited",
        "503": "Unavailable (--fail-rate)",
    }
    return {str(c): {"description": names[str(c)], "content": _content(_ERROR)} for c in codes}


def _format_param() -> dict[str, Any]:
    return {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json", "xml"]}}


def openapi_document(server_url: str, versions: tuple[str, ...] = ("v2", "v2.1")) -> dict[str, Any]:
    """What the sandbox serves: v2's paths (OAuth 1.0a) and/or v2.1's (HTTP Basic)."""
    doc = _v2_document(server_url)
    if "v2" not in versions:
        doc["paths"] = {}
    if "v2.1" in versions:
        doc["info"]["title"] = "Next Caller API v2 and v2.1 (nextcaller-ops sandbox)"
        doc["info"]["description"] += " Every /v2.1 call needs HTTP Basic auth (API username and password)."
        doc["components"]["securitySchemes"].update(V21_SECURITY)
        doc["components"]["schemas"].update(V21_SCHEMAS)
        doc["paths"].update(v21_paths())
    return doc


def _v2_document(server_url: str) -> dict[str, Any]:
    uid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{30}$"}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Next Caller API v2 (nextcaller-ops sandbox)",
            "version": "2.0",
            "description": "The subset of the Next Caller v2 API that the local sandbox implements. "
            "Every /v2 call needs OAuth 1.0a HMAC-SHA1 in the Authorization header.",
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {
                "oauth1": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "OAuth 1.0a, HMAC-SHA1, two-legged (empty token)",
                }
            },
            "schemas": {"Record": _RECORD, "Error": _ERROR, "Correction": _CORRECTION},
        },
        "security": [{"oauth1": []}],
        "paths": {
            "/v2/records/": {
                "get": {
                    "operationId": "getRecords",
                    "summary": "Profiles for a phone number",
                    "parameters": [
                        {"name": "phone", "in": "query", "required": True, "schema": {"type": "string"}},
                        _format_param(),
                    ],
                    "responses": {
                        "200": {
                            "description": "Records found",
                            "content": _content(
                                {
                                    "type": "object",
                                    "required": ["records"],
                                    "properties": {"records": {"type": "array", "items": _RECORD}},
                                }
                            ),
                        },
                        **_errors(400, 401, 402, 403, 404, 429, 503),
                    },
                }
            },
            "/v2/users/{id}/": {
                "post": {
                    "operationId": "updateUser",
                    "summary": "Post a correction; omitted fields keep their value",
                    "parameters": [uid, _format_param()],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _CORRECTION}}},
                    "responses": {
                        "200": {
                            "description": "Saved",
                            "content": _content(
                                {
                                    "type": "object",
                                    "required": ["success"],
                                    "properties": {"success": {"type": "boolean"}},
                                }
                            ),
                        },
                        **_errors(400, 401, 402, 403, 404, 429, 503),
                    },
                },
            },
        },
    }
