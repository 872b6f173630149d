from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nextcaller_ops.api.correction_fields import build_correction, diff_correction
from nextcaller_ops.api.models import Profile, parse_records_json, parse_xml_document
from nextcaller_ops.errors import BadResponseError, UsageError

DOC = {
    "records": [
        {
            "fraud_threat": "low",
            "first_name": "Jerry",
            "last_name": "Seinfeld",
            "name": "Jerry Seinfeld",
            "language": "English",
            "billing_info_on_file": "true",
            "member": "false",
            "phone": [{"number": "2125558383"}],
            "carrier": "Verizon Wireless",
            "address": [
                {
                    "city": "New York",
                    "extended_zip": "",
                    "country": "USA",
                    "line2": "Apt 5a",
                    "line1": "129 West 81st Street",
                    "state": "NY",
                    "zip_code": "10024",
                }
            ],
            "department": "not specified",
            "id": "97d949a413f4ea8b85e9586e1f2d9a",
            "email": "demo@nextcaller.com",
            "age": "45-54",
            "social_links": [{"type": "twitter", "url": "https://twitter.com/x"}],
            "relatives": [{"id": "30400c6a0567b3a5168c9812ed617c", "name": "Morty Seinfeld"}],
        }
    ]
}

# The document's XML example, with its one typo (`<carrier/>` as a closing tag) fixed.
XML = """<response><records><object>
  <name>Jerry Seinfeld</name><first_name>Jerry</first_name><last_name>Seinfeld</last_name>
  <language>English</language><fraud_threat>low</fraud_threat><email>demo@nextcaller.com</email>
  <member>true</member><phone><object><number>2125558383</number></object></phone>
  <carrier>Verizon Wireless</carrier>
  <address><object><line1>129 West 81st Street</line1><line2>Apt 5a</line2><city>New York</city>
  <state>NY</state><zip_code>10024</zip_code><extended_zip/><country>USA</country></object></address>
  <department>not specified</department><id>97d949a413f4ea8b85e9586e1f2d9a</id>
  <billing_info_on_file>true</billing_info_on_file><line_type>mobile</line_type>
</object></records></response>"""


def test_json_profile_booleans_and_unknown_fields():
    (p,) = parse_records_json(DOC)
    assert p.member is False and p.billing_info_on_file is True
    assert p.phone_numbers == ["2125558383"]
    assert p.addresses[0].one_line == "129 West 81st Street, Apt 5a, New York, NY 10024"
    # v2.1's fields are attributes; a field neither version documents stays in `extra`
    assert p.age == "45-54" and p.social_links[0].type == "twitter"
    assert p.extra == {"relatives": DOC["records"][0]["relatives"]}
    assert p.to_api()["member"] == "false"
    assert p.to_api()["age"] == "45-54" and p.to_api()["relatives"][0]["name"] == "Morty Seinfeld"


def test_xml_gives_the_same_profile_as_json():
    (px,) = parse_records_json(parse_xml_document(XML))
    (pj,) = parse_records_json(DOC)
    for field in ("id", "name", "email", "carrier", "fraud_threat", "department", "billing_info_on_file"):
        assert getattr(px, field) == getattr(pj, field)
    assert px.member is True
    assert px.addresses[0].zip_code == "10024" and px.addresses[0].extended_zip == ""
    assert px.line_type == "mobile"


def test_xml_empty_records_is_an_empty_list():
    assert parse_records_json(parse_xml_document("<response><records/></response>")) == []


@pytest.mark.parametrize("bad", ["<response><records>", "not xml", "<html><body>502</body></html>"])
def test_malformed_xml_is_a_bad_response(bad):
    with pytest.raises(BadResponseError):
        parse_xml_document(bad)


def test_xml_entity_bomb_is_refused():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        "<response><records><object><name>&lol2;</name></object></records></response>"
    )
    with pytest.raises(BadResponseError) as info:
        parse_xml_document(bomb)
    assert "unsafe" in str(info.value)


def test_external_entity_is_refused():
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<response><records><object><name>&x;</name></object></records></response>"
    )
    with pytest.raises(BadResponseError):
        parse_xml_document(xxe)


@pytest.mark.parametrize("doc", [{}, {"records": "x"}, [], None, {"records": [3]}])
def test_malformed_json_documents(doc):
    with pytest.raises(BadResponseError):
        parse_records_json(doc)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.text(max_size=10) | st.integers(),
        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=20,
    )
)
def test_any_json_is_profiles_or_bad_response(doc):
    try:
        profiles = parse_records_json({"records": [doc]} if isinstance(doc, dict) else doc)
    except BadResponseError:
        return
    for p in profiles:
        assert isinstance(p, Profile)
        json.dumps(p.to_api())


def test_correction_carries_only_given_fields_nested():
    body = build_correction(
        {
            "first_name": "Clark",
            "shipping_address1.line1": "225 Kryptonite Ave.",
            "shipping_address1.state": "ks",
            "phone2": "(234) 567-8901",
        }
    )
    assert body == {
        "first_name": "Clark",
        "phone2": "2345678901",
        "shipping_address1": {"line1": "225 Kryptonite Ave.", "state": "KS"},
    }


@pytest.mark.parametrize(
    "changes,needle",
    [
        ({"age": "3"}, "unknown field 'age'"),
        ({"email": "nope"}, "email"),
        ({"shipping_address1.zip_code": "1234"}, "5-digit"),
        ({"phone1": "123"}, "phone1"),
        ({"shipping_address3.line1": "x"}, "unknown field"),
        ({}, "no fields"),
    ],
)
def test_bad_corrections_are_refused(changes, needle):
    with pytest.raises(UsageError) as info:
        build_correction(changes)
    assert needle in str(info.value)


def test_diff_correction_keeps_only_changes():
    (p,) = parse_records_json(DOC)
    diff = diff_correction(
        p,
        {
            "first_name": "Jerry",
            "last_name": "Seinfield",
            "email": "demo@nextcaller.com",
            "shipping_address1.city": "New York",
            "shipping_address1.line2": "Apt 5B",
        },
    )
    assert diff == {"last_name": "Seinfield", "shipping_address1": {"line2": "Apt 5B"}}
    assert diff_correction(p, {"first_name": "Jerry"}) == {}


def test_to_api_is_the_record_as_sent():
    record = {
        "id": "97d949a413f4ea8b85e9586e1f2d9a",
        "email": "",
        "member": "false",
        "zzz_new": [1],
        "name": "J",
        "phone": [{"number": "2125558383"}],
    }
    (p,) = parse_records_json({"records": [record]})
    assert p.to_api() == record and list(p.to_api()) == list(record)


def test_text_cards_never_print_control_characters():
    from nextcaller_ops.api.render import text_card

    hostile = Profile.from_api(
        {"id": "97d949a413f4ea8b85e9586e1f2d9a", "name": "Jerry\x1b]0;pwned\x07 Seinfeld", "carrier": "Tel\x9bco\ud800"}
    )
    card = text_card(hostile)
    assert "\x1b" not in card and "\x07" not in card and "\x9b" not in card and "\ud800" not in card
    assert "Jerry\ufffd]0;pwned\ufffd Seinfeld" in card and "Tel\ufffdco\ufffd" in card
    card.encode("utf-8")  # a strict terminal can print it
