"""v2.1's settings, credentials, record shape and error bodies: pure parts, no server."""

from __future__ import annotations

import json

import pytest
import requests

from nextcaller_ops import errors
from nextcaller_ops.api.error_map import error_from_response
from nextcaller_ops.api.fraud import FraudLevel
from nextcaller_ops.api.models import parse_records_json, parse_xml_document
from nextcaller_ops.api.queries import name_address_query, split_name
from nextcaller_ops.client.transport import auth_for
from nextcaller_ops.config import load_settings, save_profile_settings
from nextcaller_ops.credentials import Credentials, delete_credentials, load_credentials, store_credentials
from tests.support.secrets import V21_API_PASSWORD

# -- settings ---------------------------------------------------------------------------


def test_defaults_are_v2_with_oauth_and_v21_defaults_to_basic():
    assert (load_settings(env={}).api_version, load_settings(env={}).auth) == ("v2", "oauth1")
    v21 = load_settings(env={"NEXTCALLER_API_VERSION": "2.1"})  # as Next Caller's clients write it
    assert (v21.api_version, v21.auth, v21.api_root) == ("v2.1", "basic", "https://api.nextcaller.com/v2.1")
    both = load_settings(env={"NEXTCALLER_API_VERSION": "v2.1", "NEXTCALLER_AUTH": "OAuth1"})
    assert both.auth == "oauth1"


def test_a_profile_table_sets_version_auth_and_account(isolated_env):
    save_profile_settings("reseller", api_version="v2.1", account_id="acme", base_url="https://x.example/v2.1/")
    settings = load_settings("reseller", env={})
    assert (settings.api_version, settings.auth, settings.account_id) == ("v2.1", "basic", "acme")
    assert settings.base_url == "https://x.example"  # a pasted version suffix is dropped
    # the environment wins over the file
    env = load_settings("reseller", env={"NEXTCALLER_API_VERSION": "v2", "NEXTCALLER_ACCOUNT_ID": "other"})
    assert (env.api_version, env.auth, env.account_id) == ("v2", "oauth1", "other")


@pytest.mark.parametrize(
    "env,named",
    [
        ({"NEXTCALLER_API_VERSION": "v3"}, "API version 'v3'"),
        ({"NEXTCALLER_AUTH": "digest"}, "auth 'digest'"),
        ({"NEXTCALLER_ACCOUNT_ID": "acme\r\nX-Evil: 1"}, "account id"),
        ({"NEXTCALLER_ACCOUNT_ID": "a" * 65}, "account id"),
    ],
)
def test_a_setting_this_tool_does_not_speak_is_one_usage_error(env, named):
    with pytest.raises(errors.UsageError) as caught:
        load_settings(env=env)
    assert named in caught.value.message and caught.value.hint


# -- credentials -------------------------------------------------------------------------


def test_basic_credentials_from_the_environment():
    creds = load_credentials(
        env={"NEXTCALLER_API_USERNAME": "USER1", "NEXTCALLER_API_PASSWORD": V21_API_PASSWORD}, auth="basic"
    )
    assert (creds.username, creds.password, creds.auth, creds.source) == ("USER1", V21_API_PASSWORD, "basic", "env")
    assert V21_API_PASSWORD not in repr(creds) and "username=" in repr(creds)
    with pytest.raises(errors.CredentialsError) as caught:
        load_credentials(env={"NEXTCALLER_API_USERNAME": "USER1"}, auth="basic")
    assert "NEXTCALLER_API_PASSWORD" in caught.value.message and caught.value.action == errors.Action.LOGIN_BASIC


def test_the_profile_s_auth_decides_which_credentials_are_read(file_keyring, isolated_env):
    store_credentials("reseller", "USER1", V21_API_PASSWORD, auth="basic")
    store_credentials("reseller", "KEY1", "oauth-secret-not-used", auth="oauth1")
    save_profile_settings("reseller", api_version="v2.1")
    creds = load_credentials("reseller", env={})  # no auth given: the profile's (v2.1 -> basic)
    assert (creds.username, creds.auth, creds.source) == ("USER1", "basic", "keyring")
    assert load_credentials("reseller", env={}, auth="oauth1").consumer_key == "KEY1"
    assert delete_credentials("reseller")
    with pytest.raises(errors.CredentialsError, match="API username and password"):
        load_credentials("reseller", env={})
    with pytest.raises(errors.CredentialsError, match="consumer key and secret"):
        load_credentials("reseller", env={}, auth="oauth1")


def test_basic_auth_sends_the_clients_header_and_hides_it():
    auth = auth_for(Credentials("USER1", V21_API_PASSWORD, auth="basic"))
    prepared = requests.Request("GET", "https://api.example/v2.1/records/", auth=auth).prepare()
    import base64

    assert (
        prepared.headers["Authorization"] == "Basic " + base64.b64encode(f"USER1:{V21_API_PASSWORD}".encode()).decode()
    )
    assert repr(auth) == "BasicAuth(<hidden>)"
    oauth = auth_for(Credentials("KEY1", "oauth-secret-not-used"))
    signed = requests.Request("GET", "https://api.example/v2/records/", auth=oauth).prepare()
    value = signed.headers["Authorization"]
    assert (value.decode() if isinstance(value, bytes) else value).startswith("OAuth ")


# -- the v2.1 record, both JSON and XML -----------------------------------------------------

V21_RECORD = {
    "id": "97d949a413f4ea8b85e9586e1f2d9a",
    "first_name": "Jerry",
    "last_name": "Seinfeld",
    "name": "Jerry Seinfeld",
    "fraud_threat": "low",
    "spoof": "false",
    "phone": [{"number": "2125558383", "carrier": "Verizon Wireless", "line_type": "LAN"}],
    "address": [{"line1": "129 West 81st Street", "city": "New York", "state": "NY", "zip_code": "10024"}],
    "email": "demo@nextcaller.com",
    "social_links": [
        {"followers": 1, "type": "twitter", "url": "https://twitter.com/nextcaller"},
        {"type": "facebook", "url": "https://www.facebook.com/nextcaller"},
    ],
    "age": "45-54",
    "gender": "Male",
    "household_income": "50k-75k",
    "high_net_worth": "No",
    "education": "Completed College",
    "department": "not specified",
}
V21_XML = """<response><records><object>
  <id>97d949a413f4ea8b85e9586e1f2d9a</id><name>Jerry Seinfeld</name><fraud_threat>low</fraud_threat>
  <spoof>false</spoof>
  <phone><object><number>2125558383</number><carrier>Verizon Wireless</carrier><line_type>LAN</line_type></object></phone>
  <email>demo@nextcaller.com</email>
  <social_links><object><followers>1</followers><type>twitter</type><url>https://twitter.com/nextcaller</url></object>
  <object><type>facebook</type><url>https://www.facebook.com/nextcaller</url></object></social_links>
  <age>45-54</age><gender>Male</gender><household_income>50k-75k</household_income>
  <high_net_worth>No</high_net_worth><education>Completed College</education>
</object></records></response>"""


@pytest.mark.parametrize("form", ["json", "xml"])
def test_the_v21_record_shape_is_read_from_json_and_xml(form):
    doc = {"records": [V21_RECORD]} if form == "json" else parse_xml_document(V21_XML)
    (p,) = parse_records_json(doc)
    assert (p.carrier, p.line_type, p.spoof, p.age, p.gender) == ("Verizon Wireless", "LAN", "false", "45-54", "Male")
    assert [(s.type, s.followers) for s in p.social_links] == [("twitter", 1), ("facebook", None)]
    assert (p.household_income, p.high_net_worth, p.education) == ("50k-75k", "No", "Completed College")
    assert p.phones[0].line_type == "LAN" and p.extra == {}
    assert p.flat_v21() == {
        "line_type": "LAN",
        "spoof": "false",
        "age": "45-54",
        "social_links": "https://twitter.com/nextcaller https://www.facebook.com/nextcaller",
    }


def test_a_v21_record_survives_the_cache_s_round_trip():
    (p,) = parse_records_json({"records": [V21_RECORD]})
    (again,) = parse_records_json(json.loads(json.dumps({"records": [p.to_api()]})))
    assert again == p and again.to_api() == V21_RECORD


def test_fraud_level_document():
    level = FraudLevel.from_api("2125558383", {"spoofed": "UNKNOWN", "fraud_risk": "Medium"})
    assert (level.spoofed, level.fraud_risk) == ("unknown", "medium")
    assert level.to_api() == {"spoofed": "UNKNOWN", "fraud_risk": "Medium"}  # as sent
    with pytest.raises(errors.BadResponseError):
        FraudLevel.from_api("2125558383", {"records": []})


# -- v2.1's error bodies: codes as strings, field messages in `description` ------------------


def test_string_code_1061_is_a_rate_limit():
    body = {
        "error": {"message": "API calls per second limit is exceeded.", "code": "1061", "type": "Too Many Requests"}
    }
    err = error_from_response(429, body, retry_after=2.0)
    assert isinstance(err, errors.RateLimitError) and err.code == 1061 and err.retry_after == 2.0


def test_string_code_1054_with_a_description_is_a_validation_error_naming_each_field():
    body = {
        "error": {
            "message": "There are validation errors",
            "code": "1054",
            "type": "Validation",
            "description": {"email": ["Invalid email address"], "phone1": ["Not 10 digits", "Required"]},
        }
    }
    err = error_from_response(400, body)
    assert isinstance(err, errors.ValidationError) and err.code == 1054
    assert err.details == {"email": "Invalid email address", "phone1": "Not 10 digits, Required"}
    assert "email: Invalid email address" in str(err)


def test_422_and_560_from_v21():
    unprocessable = error_from_response(
        422,
        {
            "error": {
                "message": "Validation Error",
                "code": "422",
                "type": "Unprocessable Entity",
                "description": {"address": ["zip_code or combination of city and state parameters must be provided."]},
            }
        },
    )
    assert isinstance(unprocessable, errors.ValidationError) and unprocessable.code == 422
    assert "correction" not in unprocessable.hint and "address" in unprocessable.details
    email = error_from_response(
        400, {"error": {"message": "The email address you have entered is invalid.", "code": "560"}}
    )
    assert isinstance(email, errors.InvalidEmailAPIError) and email.action == errors.Action.FIX_INPUT
    assert isinstance(
        error_from_response(400, {"error": {"code": "555", "message": "x"}}), errors.InvalidPhoneNumberAPIError
    )


# -- the query rules -------------------------------------------------------------------------


def test_names_are_split_on_the_last_word_or_a_comma():
    assert split_name("Jerry Seinfeld") == ("Jerry", "Seinfeld")
    assert split_name("  Mary  Ann Smith ") == ("Mary Ann", "Smith")
    assert split_name("de la Cruz, Juan") == ("Juan", "de la Cruz")
    with pytest.raises(errors.UsageError, match="first and a last name"):
        split_name("Seinfeld")


def test_a_query_names_every_problem_at_once():
    with pytest.raises(errors.UsageError) as caught:
        name_address_query({"last_name": "Seinfeld", "zip_code": "1002", "colour": "blue"})
    text = caught.value.message
    for part in ("colour: unknown field", "first_name: required", "address: required", "zip_code: must be 5 digits"):
        assert part in text
    query = name_address_query(
        {
            "first_name": " Jerry ",
            "last_name": "Seinfeld",
            "address": "129  West 81st Street",
            "city": "New York",
            "state": "ny",
        }
    )
    assert query.params() == {
        "first_name": "Jerry",
        "last_name": "Seinfeld",
        "address": "129 West 81st Street",
        "city": "New York",
        "state": "NY",
    }
