"""What the sandbox answers with: the documented error bodies and the XML form of a document."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..api.correction_fields import CORRECTION_FIELDS, validate_correction_value

__all__ = ["MESSAGES", "STATUS_CODES", "HTTP_FOR_CODE", "to_xml", "validate_post"]

MESSAGES = {
    555: ("The number you have entered is invalid. Please ensure your number contains 10 digits.", "Authentication"),
    405: ("Invalid UID: no profile has this id.", "Request"),
    1046: ("Invalid consumer key.", "Authentication"),
    1047: ("Inactive consumer key and secret.", "Authentication"),
    1048: ("No consumer key in request.", "Authentication"),
    1049: ("Expired consumer key.", "Authentication"),
    8643: ("Billing fail.", "Billing"),
    8644: ("Expired trial.", "Billing"),
    1061: ("Rate limit exceeded.", "RateLimit"),
    1054: ("Validation error.", "Validation"),
}
STATUS_CODES = {"inactive": 1047, "expired": 1049, "billing_failed": 8643, "trial_expired": 8644}
HTTP_FOR_CODE = {
    555: 400,
    405: 404,
    1046: 401,
    1047: 401,
    1048: 401,
    1049: 401,
    8643: 402,
    8644: 403,
    1061: 429,
    1054: 400,
}


# Characters XML 1.0 cannot carry (a lone surrogate, most controls): written as U+FFFD, so a
# record stored before validation caught them still has an XML form.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _xml_value(name: str, value: Any, indent: str) -> str:
    # A key that is no XML name (an unknown field a client sent: "<b>", "a b") becomes <field name="...">.
    if _XML_NAME.fullmatch(name):
        open_tag, close_tag = name, name
    else:
        open_tag, close_tag = f"field name={quoteattr(_NOT_XML.sub(chr(0xFFFD), name))}", "field"
    if isinstance(value, list):
        inner = "".join(
            f"{indent}  <object>\n{_xml_fields(v, indent + '    ')}{indent}  </object>\n"
            if isinstance(v, dict)
            else f"{indent}  <object>{_text(str(v))}</object>\n"
            for v in value
        )
        return f"{indent}<{open_tag}>\n{inner}{indent}</{close_tag}>\n" if value else f"{indent}<{open_tag}/>\n"
    if isinstance(value, dict):
        return f"{indent}<{open_tag}>\n{_xml_fields(value, indent + '  ')}{indent}</{close_tag}>\n"
    text = "" if value is None else ("true" if value is True else "false" if value is False else str(value))
    return f"{indent}<{open_tag}>{_text(text)}</{close_tag}>\n" if text else f"{indent}<{open_tag}/>\n"


def _xml_fields(obj: dict[str, Any], indent: str) -> str:
    return "".join(_xml_value(str(k), v, indent) for k, v in obj.items())


def to_xml(doc: dict[str, Any]) -> str:
    return '<?xml version="1.0" encoding="utf-8"?>\n<response>\n' + _xml_fields(doc, "  ") + "</response>\n"


def validate_post(data: dict[str, Any]) -> dict[str, str]:
    details: dict[str, str] = {}
    allowed_groups = {name.split(".")[0] for name in CORRECTION_FIELDS if "." in name}
    for key, value in data.items():
        if key in allowed_groups:
            if not isinstance(value, dict):
                details[key] = "must be an object"
                continue
            for sub, sub_value in value.items():
                name = f"{key}.{sub}"
                if name not in CORRECTION_FIELDS:
                    details[name] = "unknown field"
                elif not isinstance(sub_value, str):
                    details[name] = "must be a string"
                elif problem := validate_correction_value(name, sub_value):
                    details[name] = problem
        elif key not in CORRECTION_FIELDS:
            details[key] = "unknown field"
        elif not isinstance(value, str):
            details[key] = "must be a string"
        elif problem := validate_correction_value(key, value):
            details[key] = problem
    return details
