"""The API's XML answers as the same dict shape as its JSON, parsed safely (defusedxml)."""

from __future__ import annotations

from typing import Any

from ..errors import BadResponseError

__all__ = ["parse_xml_document"]

# Elements that are lists in the JSON document even when the XML has none of their objects.
_LIST_FIELDS = ("phone", "address", "social_links")


def _element_to_value(elem: Any) -> Any:
    children = list(elem)
    if not children:
        if elem.tag in _LIST_FIELDS or elem.tag == "records":
            return []
        return (elem.text or "").strip()
    if all(c.tag == "object" for c in children):
        return [_element_to_value(c) for c in children]
    out: dict[str, Any] = {}
    for child in children:
        out[child.tag] = _element_to_value(child)
    return out


def parse_xml_document(text: str | bytes) -> dict[str, Any]:
    """``<response>...</response>`` -> the same dict shape as the JSON answer.

    Parsed with defusedxml: entity expansion, external entities and DTDs are
    refused, so a hostile or broken proxy cannot blow up memory.
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException  # here: importing the client stays cheap (issue 25)
    from defusedxml import ElementTree as SafeET

    try:
        root = SafeET.fromstring(text)
    except DefusedXmlException as exc:
        raise BadResponseError(f"the XML answer was refused as unsafe ({type(exc).__name__})") from None
    except ParseError as exc:
        raise BadResponseError(f"the XML answer is not well-formed ({exc})") from None
    if root.tag != "response":
        raise BadResponseError(f"the XML answer's root is <{root.tag}>, not <response>")
    value = _element_to_value(root)
    if not isinstance(value, dict):
        raise BadResponseError("the XML answer is empty")
    return value
