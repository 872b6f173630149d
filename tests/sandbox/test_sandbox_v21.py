"""The sandbox's API v2.1, checked from outside as Next Caller's own v2.1 clients speak it: plain requests, HTTP Basic."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import requests
from requests_oauthlib import OAuth1

from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, STATUS_CONSUMERS, Sandbox
from tests.support.common import PATIENCE, SEINFELD_ID

JERRY = {"first_name": "Jerry", "last_name": "Seinfeld", "address": "129 West 81st Street"}


def call(sb, path, method="GET", auth=True, **kw):
    kw.setdefault("params", {})
    kw["params"].setdefault("format", "json")
    basic = (sb.api_username, sb.api_password) if auth is True else auth or None
    return requests.request(method, sb.url + path, auth=basic, timeout=10, **kw)


def error(resp):
    return resp.json()["error"]


def test_a_record_by_phone_in_the_v21_clients_shape(sandbox):
    resp = call(sandbox, "/v2.1/records/", params={"phone": "2125558383"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    (record,) = resp.json()["records"]
    assert record["phone"] == [{"number": "2125558383", "carrier": "Verizon Wireless", "line_type": "LAN"}]
    assert "carrier" not in record and record["spoof"] == "false"
    # the values Next Caller's own client tests show for this record
    assert {k: record[k] for k in ("age", "gender", "household_income", "occupation", "education")} == {
        "age": "45-54",
        "gender": "Male",
        "household_income": "50k-75k",
        "occupation": "Entertainer",
        "education": "Completed College",
    }
    assert record["social_links"][0] == {"followers": 1, "type": "twitter", "url": "https://twitter.com/nextcaller"}
    # the same record on v2, from the same database, is v2's
    v2 = requests.get(
        sandbox.url + "/v2/records/",
        params={"phone": "2125558383", "format": "json"},
        auth=OAuth1(sandbox.consumer_key, sandbox.consumer_secret),
        timeout=10,
    ).json()["records"][0]
    assert v2["phone"] == [{"number": "2125558383"}] and "spoof" not in v2 and "age" not in v2


def test_xml_on_v21_keeps_codes_as_text(sandbox):
    ok = ET.fromstring(call(sandbox, "/v2.1/records/", params={"phone": "2125558383", "format": "xml"}).content)
    assert ok.findtext("records/object/phone/object/line_type") == "LAN"
    bad = call(sandbox, "/v2.1/records/", params={"phone": "123", "format": "xml"})
    assert bad.status_code == 400 and ET.fromstring(bad.content).findtext("error/code") == "555"


@pytest.mark.parametrize("params", [{"phone": "123"}, {"phone": ["2125558383", "3125550142"]}, {}])
def test_a_bad_or_missing_number_is_555_as_a_string(sandbox, params):
    resp = call(sandbox, "/v2.1/records/", params=params)
    assert resp.status_code == 400
    assert error(resp) == {
        "message": "The number you have entered is invalid. Please ensure your number contains 10 digits.",
        "code": "555",
        "type": "Bad Request",
    }


def test_by_email_found_missing_and_malformed(sandbox):
    found = call(sandbox, "/v2.1/records/", params={"email": "Demo@NextCaller.com"})
    assert found.status_code == 200 and [r["id"] for r in found.json()["records"]] == [SEINFELD_ID]
    missing = call(sandbox, "/v2.1/records/", params={"email": "nobody@example.org"})
    assert missing.status_code == 404 and error(missing)["code"] == "404"
    bad = call(sandbox, "/v2.1/records/", params={"email": "demo@nextcaller@com"})
    assert bad.status_code == 400
    assert error(bad) == {
        "message": "The email address you have entered is invalid.",
        "code": "560",
        "type": "Bad Request",
    }


@pytest.mark.parametrize(
    "place",
    [{"zip_code": "10024"}, {"city": "NEW YORK", "state": "ny"}, {"zip_code": "10024", "city": "x", "state": "y"}],
)
def test_by_name_and_address(sandbox, place):
    resp = call(sandbox, "/v2.1/records/", params={**JERRY, "address": "129 west 81st street.", **place})
    assert resp.status_code == 200 and resp.json()["records"][0]["id"] == SEINFELD_ID


def test_by_name_and_address_finds_each_member_of_a_household_alone(sandbox):
    params = {"first_name": "Sam", "last_name": "Rivera", "address": "233 S Wacker Dr", "zip_code": "60606"}
    (sam,) = call(sandbox, "/v2.1/records/", params=params).json()["records"]
    assert sam["name"] == "Sam Rivera" and sam["spoof"] == "true"
    assert call(sandbox, "/v2.1/records/", params={**params, "first_name": "Pat"}).status_code == 404


@pytest.mark.parametrize(
    "params,field,message",
    [
        (JERRY, "address", "zip_code or combination of city and state parameters must be provided."),
        (
            {**JERRY, "city": "New York"},
            "address",
            "zip_code or combination of city and state parameters must be provided.",
        ),
        ({**JERRY, "zip_code": "1002"}, "zip_code", "Must be 5 digits."),
        ({**JERRY, "first_name": "", "zip_code": "10024"}, "first_name", "Required."),
        ({"first_name": "Jerry", "address": "1 Main St", "zip_code": "10024"}, "last_name", "Required."),
        ({**JERRY, "zip_code": "10024", "test_field": "xx"}, "test_field", "Unknown field."),
    ],
)
def test_a_name_and_address_query_breaking_the_rules_is_422_with_a_description(sandbox, params, field, message):
    resp = call(sandbox, "/v2.1/records/", params=dict(params))
    assert resp.status_code == 422
    err = error(resp)
    assert (err["code"], err["type"], err["message"]) == ("422", "Unprocessable Entity", "Validation Error")
    assert err["description"][field] == [message]


def test_a_profile_by_id_and_an_unknown_one(sandbox):
    resp = call(sandbox, f"/v2.1/users/{SEINFELD_ID}/")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["id"] == SEINFELD_ID and doc["phone"][0]["line_type"] == "LAN" and doc["age"] == "45-54"
    for bad in ("0" * 30, "not-an-id"):
        missing = call(sandbox, f"/v2.1/users/{bad}/")
        assert missing.status_code == 404 and error(missing)["code"] == "405"


def test_a_correction_answers_204_with_no_body_and_persists(sandbox):
    resp = call(sandbox, f"/v2.1/users/{SEINFELD_ID}/", "POST", json={"email": "jerry@example.com"})
    assert resp.status_code == 204 and resp.content == b""
    assert (
        call(sandbox, "/v2.1/records/", params={"email": "jerry@example.com"}).json()["records"][0]["id"] == SEINFELD_ID
    )
    assert sandbox.store.corrections(SEINFELD_ID) == [{"id": SEINFELD_ID, "body": {"email": "jerry@example.com"}}]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"email": "XXXX"}, "email"),
        ({"shipping_address1": {"zip_code": "ABCDE"}}, "shipping_address1.zip_code"),
        ({"favourite": "blue"}, "favourite"),
        ("not json", "body"),
        ({}, "body"),
    ],
)
def test_a_refused_correction_is_1054_with_field_messages_in_lists(sandbox, body, field):
    kw = {"data": body} if isinstance(body, str) else {"json": body}
    resp = call(sandbox, f"/v2.1/users/{SEINFELD_ID}/", "POST", **kw)
    assert resp.status_code == 400
    err = error(resp)
    assert (err["code"], err["type"], err["message"]) == ("1054", "Validation", "There are validation errors")
    assert isinstance(err["description"][field], list) and err["description"][field][0]
    assert sandbox.store.corrections() == []


def test_a_correction_to_an_unknown_id_is_405(sandbox):
    resp = call(sandbox, "/v2.1/users/" + "0" * 30 + "/", "POST", json={"email": "a@b.co"})
    assert resp.status_code == 404 and error(resp)["code"] == "405"


def test_fraud_levels(sandbox):
    household = call(sandbox, "/v2.1/fraud/", params={"phone": HOUSEHOLD_PHONE})
    assert household.status_code == 200 and household.json() == {"spoofed": "true", "fraud_risk": "high"}
    assert call(sandbox, "/v2.1/fraud/", params={"phone": "2125558383"}).json() == {
        "spoofed": "false",
        "fraud_risk": "low",
    }
    unknown = call(sandbox, "/v2.1/fraud/", params={"phone": "2025550999"}).json()
    assert unknown["spoofed"] == "unknown" and unknown["fraud_risk"] in ("low", "medium", "high")
    bad = call(sandbox, "/v2.1/fraud/", params={"phone": "12"})
    assert bad.status_code == 400 and error(bad)["code"] == "555"


def test_methods_and_paths_v21_does_not_have(sandbox):
    put = call(sandbox, "/v2.1/records/", "PUT", params={"phone": "2125558383"})
    assert put.status_code == 405 and error(put)["code"] == "405" and put.headers["Allow"] == "GET"
    post_fraud = call(sandbox, "/v2.1/fraud/", "POST")
    assert post_fraud.status_code == 405
    assert call(sandbox, "/v2.1/accounts/").status_code == 404


# -- authentication -------------------------------------------------------------------------


def test_no_credentials_is_1048_with_a_basic_challenge(sandbox):
    resp = call(sandbox, "/v2.1/records/", auth=None, params={"phone": "2125558383"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic ")
    assert error(resp)["code"] == "1048" and error(resp)["type"] == "Unauthorized"
    assert sandbox.httpd.request_count == 0


def test_oauth_on_v21_is_refused_with_the_reason(sandbox):
    resp = requests.get(
        sandbox.url + "/v2.1/records/",
        params={"phone": "2125558383"},
        auth=OAuth1(sandbox.consumer_key, sandbox.consumer_secret),
        timeout=10,
    )
    assert resp.status_code == 401 and "HTTP Basic" in error(resp)["message"]


@pytest.mark.parametrize("auth", [("EG2D22B98D2232253SE3", "wrong-password"), ("NOBODY00000000000000", "x"), ("", "x")])
def test_a_wrong_username_or_password_is_one_answer(sandbox, auth):
    resp = call(sandbox, "/v2.1/records/", auth=auth, params={"phone": "2125558383"})
    assert resp.status_code == 401
    assert error(resp) == {"message": "Invalid API username or password.", "code": "401", "type": "Unauthorized"}


def test_a_malformed_basic_header_is_refused(sandbox):
    resp = requests.get(
        sandbox.url + "/v2.1/records/?phone=2125558383", headers={"Authorization": "Basic !!!notbase64"}, timeout=10
    )
    assert resp.status_code == 401 and error(resp)["code"] == "401"


@pytest.mark.parametrize("key,status", sorted(STATUS_CONSUMERS.items()))
def test_account_states_answer_their_codes_as_strings(sandbox, key, status):
    expected = {
        "inactive": ("1047", 401),
        "expired": ("1049", 401),
        "billing_failed": ("8643", 402),
        "trial_expired": ("8644", 403),
    }
    resp = call(sandbox, "/v2.1/records/", auth=(key, sandbox.consumer_secret), params={"phone": "2125558383"})
    assert (error(resp)["code"], resp.status_code) == expected[status]


def test_basic_on_v2_is_still_no_consumer_key(sandbox):
    resp = call(sandbox, "/v2/records/", params={"phone": "2125558383"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == 1048  # v2: a number, as before


def test_rate_limited_v21_answers_1061_with_its_headers():
    with Sandbox(records=5, rate_limit=1) as sb:
        first = call(sb, "/v2.1/fraud/", params={"phone": "2125558383"})
        second = call(sb, "/v2.1/fraud/", params={"phone": "2125558383"})
    assert first.status_code == 200 and second.status_code == 429
    assert error(second)["code"] == "1061" and error(second)["message"] == "API calls per second limit is exceeded."
    assert int(second.headers["Retry-After"]) >= 1 and second.headers["X-Rate-Limit-Reset"]


def test_the_account_header_is_recorded_with_each_accepted_call(sandbox):
    call(sandbox, "/v2.1/fraud/", params={"phone": "2125558383"}, headers={"Nc-Account-Id": "acme"})
    call(sandbox, "/v2.1/fraud/", params={"phone": "2125558383"})
    assert [r["account_id"] for r in sandbox.httpd.signed_requests] == ["acme", None]


# -- which versions are served ------------------------------------------------------------


def test_api_version_chooses_what_is_served():
    with Sandbox(records=5, api_version="v2") as only_v2:
        resp = call(only_v2, "/v2.1/records/", params={"phone": "2125558383"})
        assert resp.status_code == 404 and "/v2/" in error(resp)["message"]
        assert "/v2.1/records/" not in requests.get(only_v2.url + "/openapi.json", timeout=10).json()["paths"]
    with Sandbox(records=5, api_version="v2.1") as only_v21:
        old = requests.get(
            only_v21.url + "/v2/records/",
            params={"phone": "2125558383"},
            auth=OAuth1(only_v21.consumer_key, only_v21.consumer_secret),
            timeout=10,
        )
        assert old.status_code == 404 and "/v2.1/" in error(old)["message"]
        paths = requests.get(only_v21.url + "/openapi.json", timeout=10).json()["paths"]
        assert set(paths) == {"/v2.1/records/", "/v2.1/users/{id}/", "/v2.1/fraud/"}
    with pytest.raises(ValueError, match="api_version"):
        Sandbox(records=0, api_version="v3")


def test_openapi_describes_both_versions_and_their_auth(sandbox):
    doc = requests.get(sandbox.url + "/openapi.json", timeout=10).json()
    assert {"/v2/records/", "/v2.1/records/", "/v2.1/users/{id}/", "/v2.1/fraud/"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["basic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "API username and password (v2.1)",
    }
    assert doc["paths"]["/v2.1/fraud/"]["get"]["security"] == [{"basic": []}]
    assert "204" in doc["paths"]["/v2.1/users/{id}/"]["post"]["responses"]


def test_cli_sandbox_v21_only_prints_the_basic_variables_and_answers_them():
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextcaller_ops", "sandbox", "--port", "0", "--records", "5", "--api-version", "v2.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+) \(API v2\.1\)", first)
        assert match, first
        lines = "".join(proc.stdout.readline() for _ in range(5))
        assert "NEXTCALLER_API_VERSION=v2.1" in lines and "NEXTCALLER_API_USERNAME=EG2D22B98D2232253SE3" in lines
        assert "NEXTCALLER_CONSUMER_KEY" not in lines
        resp = requests.get(
            match.group(1) + "/v2.1/fraud/",
            params={"phone": HOUSEHOLD_PHONE},
            auth=("EG2D22B98D2232253SE3", "sandbox-demo-secret-not-for-production"),
            timeout=10,
        )
        assert resp.json() == {"spoofed": "true", "fraud_risk": "high"}
    finally:
        proc.terminate()
        proc.wait(timeout=PATIENCE)
