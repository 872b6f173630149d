"""The client on API v2.1 (HTTP Basic) against the sandbox over HTTP, and the same questions on v2."""

from __future__ import annotations

import logging

import pytest

from nextcaller_ops import errors
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, STATUS_CONSUMERS
from tests.support.common import SEINFELD_ID
from tests.support.secrets import V21_API_PASSWORD

JERRY = {"first_name": "Jerry", "last_name": "Seinfeld", "address": "129 West 81st Street", "zip_code": "10024"}


@pytest.fixture
def nc(api_env_v21):
    seen: list[tuple] = []
    with NextCallerClient(sleep=lambda s: None, audit=lambda *a: seen.append(a)) as client:
        client.audited = seen  # type: ignore[attr-defined]
        yield client


def test_a_phone_lookup_reads_each_version_s_record_shape(sandbox, api_version):
    with NextCallerClient(sleep=lambda s: None) as nc:
        assert nc.api_version == api_version
        (jerry,) = nc.lookup("(212) 555-8383").profiles
    assert jerry.id == SEINFELD_ID and jerry.carrier == "Verizon Wireless" and jerry.email == "demo@nextcaller.com"
    request = sandbox.httpd.signed_requests[-1]
    if api_version == "v2.1":
        # v2.1 moves the carrier into the phone entry: the model reads it from there
        assert "carrier" not in jerry.to_api() and jerry.phones[0].carrier == "Verizon Wireless"
        assert (jerry.line_type, jerry.spoof, jerry.age) == ("LAN", "false", "45-54")
        assert [link.type for link in jerry.social_links] == ["twitter", "facebook", "linkedin"]
        assert request["path"] == "/v2.1/records/" and request["auth"] == "basic" and request["nonce"] is None
    else:
        assert (jerry.line_type, jerry.spoof, jerry.age, jerry.social_links) == ("", "", "", ())
        assert request["path"] == "/v2/records/" and request["nonce"]


def test_lookup_by_email_is_cached_and_audited(nc, sandbox):
    first = nc.lookup_email(" DEMO@nextcaller.com ")
    assert [p.id for p in first.profiles] == [SEINFELD_ID] and first.query == "DEMO@nextcaller.com"
    assert sandbox.httpd.signed_requests[-1]["query"]["email"] == ["DEMO@nextcaller.com"]
    sent = sandbox.httpd.request_count
    again = nc.lookup_email("demo@NEXTCALLER.com")
    assert again.cached and sandbox.httpd.request_count == sent  # one key per address, whatever the case
    assert nc.lookup_email("demo@nextcaller.com", refresh=True).cached is False
    assert [a[0] for a in nc.audited] == ["lookup_email"] * 3
    assert nc.audited[0][2] == "found 1" and "cached" in nc.audited[1][3]


def test_an_email_without_a_record_is_an_empty_result(nc):
    result = nc.lookup_email("nobody@example.org")
    assert not result.found and result.query == "nobody@example.org"
    assert nc.audited[-1][2] == "no record"


@pytest.mark.parametrize(
    "place",
    [{"zip_code": "10024"}, {"city": "new york", "state": "ny"}],
    ids=["zip", "city-state"],
)
def test_lookup_by_name_and_address(nc, sandbox, place):
    fields = {"first_name": "jerry", "last_name": "SEINFELD", "address": "129 west 81st street", **place}
    result = nc.lookup_name_address(fields)
    assert [p.id for p in result.profiles] == [SEINFELD_ID]
    query = sandbox.httpd.signed_requests[-1]["query"]
    assert {k: v[0] for k, v in query.items() if k != "format"} == {
        **fields,
        **({"state": "NY"} if "state" in place else {}),
    }
    assert nc.audited[-1][0] == "lookup_name"


def test_a_name_and_address_with_no_record(nc):
    assert not nc.lookup_name_address({**JERRY, "zip_code": "10025"}).found


@pytest.mark.parametrize(
    "change,named",
    [
        ({"first_name": ""}, "first_name: required"),
        ({"last_name": " "}, "last_name: required"),
        ({"address": ""}, "address: required"),
        ({"zip_code": "1002"}, "zip_code: must be 5 digits"),
        ({"zip_code": "10024-1234"}, "zip_code: must be 5 digits"),
        ({"zip_code": "", "city": "New York"}, "zip_code: give a 5-digit ZIP code, or a city and a state"),
        ({"test_field": "xx"}, "test_field: unknown field"),
    ],
)
def test_a_name_and_address_query_the_clients_refuse_costs_nothing(nc, sandbox, change, named):
    with pytest.raises(errors.UsageError) as caught:
        nc.lookup_name_address({**JERRY, **change})
    assert named in str(caught.value)
    assert sandbox.httpd.request_count == 0 and nc.audited == []


@pytest.mark.parametrize("bad", ["", "demo", "demo@", "demo@nextcaller", "de mo@nextcaller.com", "a@b@c.com"])
def test_a_malformed_email_is_refused_before_any_request(nc, sandbox, bad):
    with pytest.raises(errors.UsageError, match="not an email address"):
        nc.lookup_email(bad)
    assert sandbox.httpd.request_count == 0


@pytest.mark.parametrize(
    "ask",
    [
        lambda nc: nc.lookup_email("demo@nextcaller.com"),
        lambda nc: nc.lookup_name_address(JERRY),
        lambda nc: nc.fraud_level("2125558383"),
        lambda nc: nc.get_profile(SEINFELD_ID),
    ],
    ids=["email", "name-address", "fraud", "profile"],
)
def test_on_v2_the_v21_questions_are_one_clear_refusal(api_env, ask):
    with NextCallerClient() as nc:
        assert not nc.can_read_profile
        with pytest.raises(errors.NeedsNewerAPIError) as caught:
            ask(nc)
    assert "needs API v2.1" in str(caught.value) and caught.value.action == errors.Action.USE_V21
    assert isinstance(caught.value, errors.UsageError)  # exit 2 in the CLI: refused before any request
    assert api_env.httpd.request_count == 0


def test_fraud_levels_spoofed_and_not_cached_then_refreshed(nc, sandbox):
    household = nc.fraud_level("(312) 555-0142")
    assert (household.phone, household.spoofed, household.fraud_risk, household.cached) == (
        HOUSEHOLD_PHONE,
        "true",
        "high",
        False,
    )
    assert nc.fraud_level(HOUSEHOLD_PHONE).cached  # same cache as lookups
    jerry = nc.fraud_level("2125558383", refresh=True)
    assert (jerry.spoofed, jerry.fraud_risk) == ("false", "low")
    unknown = nc.fraud_level("2025550999")
    assert unknown.spoofed == "unknown" and unknown.fraud_risk in ("low", "medium", "high")
    assert [r["path"] for r in sandbox.httpd.signed_requests] == ["/v2.1/fraud/"] * 3
    assert nc.audited[0] == ("fraud", HOUSEHOLD_PHONE, "risk high", "")


def test_a_bad_number_for_a_fraud_level_costs_nothing(nc, sandbox):
    with pytest.raises(errors.InvalidPhoneError):
        nc.fraud_level("555-01")
    assert sandbox.httpd.request_count == 0


def test_get_profile_reads_the_v21_record(nc):
    assert nc.can_read_profile
    profile = nc.get_profile(SEINFELD_ID.upper())
    assert profile.id == SEINFELD_ID and profile.education == "Completed College" and profile.line_type == "LAN"
    with pytest.raises(errors.InvalidProfileIdError) as caught:
        nc.get_profile("0" * 30)
    assert caught.value.code == 405 and caught.value.status == 404  # the code came as the string "405"
    assert [a[2] for a in nc.audited] == ["found 1", "error: InvalidProfileIdError"]


def test_a_correction_on_v21_answers_204_and_is_kept(nc, sandbox):
    assert nc.lookup_email("demo@nextcaller.com").found
    body = nc.update_profile(SEINFELD_ID, {"email": "jerry@example.com"})
    assert body == {"email": "jerry@example.com"}
    assert sandbox.store.get(SEINFELD_ID)["email"] == "jerry@example.com"
    # the cached answer held that profile: it was dropped, so the old address finds nobody now
    assert not nc.lookup_email("demo@nextcaller.com").found
    assert nc.lookup_email("jerry@example.com").profiles[0].id == SEINFELD_ID


def test_a_refused_correction_names_the_fields_from_the_description(nc, sandbox):
    # The client checks fields first; a body it would refuse is posted as is to see the API's answer.
    resp = nc.transport.request("POST", f"users/{SEINFELD_ID}/", params={"format": "json"}, body={"email": "XXXX"})
    with pytest.raises(errors.ValidationError) as caught:
        nc.transport.decode(resp)
    assert caught.value.code == 1054 and "email" in caught.value.details
    assert "email:" in str(caught.value)


def test_basic_retries_resend_the_same_credentials_without_signing(nc, sandbox):
    sandbox.inject(503, count=1)
    assert nc.lookup("2125558383").found
    attempts = sandbox.httpd.signed_requests
    assert len(attempts) == 2 and attempts[0]["credential"] == attempts[1]["credential"]
    assert all(a["nonce"] is None for a in attempts)


def test_rate_limited_v21_retries_then_names_1061(nc, sandbox):
    sandbox.inject(429, code=1061, retry_after="0", count=1)
    assert nc.lookup("2125558383").found
    sandbox.inject(429, code=1061, retry_after="0", count=4)
    with pytest.raises(errors.RateLimitError) as caught:
        nc.lookup("3125550142")
    assert caught.value.code == 1061 and caught.value.status == 429


def test_a_wrong_password_is_a_basic_auth_error_not_a_signature_one(sandbox, monkeypatch, caplog):
    sandbox.store.add_consumer("V21TESTUSER0000001", "the-right-password-1")
    settings = load_settings(env={"NEXTCALLER_BASE_URL": sandbox.url, "NEXTCALLER_API_VERSION": "v2.1"})
    wrong = Credentials("V21TESTUSER0000001", V21_API_PASSWORD, auth="basic")
    caplog.set_level(logging.DEBUG)
    with NextCallerClient(wrong, settings, sleep=lambda s: None) as nc:
        with pytest.raises(errors.InvalidCredentialsError) as caught:
            nc.lookup("2125558383")
        text = repr(nc) + repr(nc.transport) + repr(nc.transport.auth) + repr(wrong) + str(caught.value)
    assert caught.value.action == errors.Action.LOGIN_BASIC and "username or password" in caught.value.hint
    assert sandbox.httpd.received["GET"] == 1  # a refusal is not retried
    import base64

    token = base64.b64encode(f"V21TESTUSER0000001:{V21_API_PASSWORD}".encode()).decode()
    for secret in (V21_API_PASSWORD, token):
        assert secret not in text and secret not in caplog.text


@pytest.mark.parametrize("key,status", sorted(STATUS_CONSUMERS.items()))
def test_account_errors_are_the_same_classes_in_both_versions(sandbox, api_version, key, status):
    expected = {
        "inactive": errors.InactiveConsumerKeyError,
        "expired": errors.ExpiredConsumerKeyError,
        "billing_failed": errors.BillingError,
        "trial_expired": errors.ExpiredTrialError,
    }[status]
    settings = load_settings()
    credentials = Credentials(key, sandbox.consumer_secret, auth=settings.auth)
    with NextCallerClient(credentials, settings) as nc, pytest.raises(expected) as caught:
        nc.lookup("2125558383")
    assert caught.value.code == expected.code  # v2.1 writes it as a string


def test_the_account_id_goes_with_every_call(sandbox, api_env_v21, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_ACCOUNT_ID", "acme_42")
    with NextCallerClient() as nc:
        nc.lookup("2125558383")
        nc.fraud_level("2125558383")
        nc.update_profile(SEINFELD_ID, {"first_name": "Jerry"})
    assert [r["account_id"] for r in sandbox.httpd.signed_requests] == ["acme_42"] * 3


def test_check_works_on_v21(nc):
    assert nc.check()["ok"] is True


def test_a_batch_with_fraud_levels_in_order_each_number_asked_once(nc, sandbox):
    lines = ["2125558383", "(312) 555-0142", "not a number", "212-555-8383", "2025550999"]
    items = list(nc.iter_lookup_many(lines, concurrency=4, fraud=True))
    assert [i.status for i in items] == ["found", "found", "invalid", "found", "not_found"]
    assert [(i.result.fraud.spoofed, i.result.fraud.fraud_risk) for i in items[:2]] == [
        ("false", "low"),
        ("true", "high"),
    ]
    assert items[3].duplicate and items[4].result.fraud.spoofed == "unknown"  # no record, still a fraud level
    paths = [r["path"] for r in sandbox.httpd.signed_requests]
    assert paths.count("/v2.1/fraud/") == 3 and paths.count("/v2.1/records/") == 3


def test_a_batch_of_email_addresses(nc, sandbox):
    lines = ["demo@nextcaller.com", "nobody@example.org", "not an address", "DEMO@nextcaller.com"]
    items = list(nc.iter_lookup_emails(lines, concurrency=2))
    assert [(i.status, i.duplicate) for i in items] == [
        ("found", False),
        ("not_found", False),
        ("invalid", False),
        ("found", True),
    ]
    assert items[0].phone is None and items[0].profiles[0].id == SEINFELD_ID
    assert "not an email address" in str(items[2].error)
    assert sandbox.httpd.request_count == 2


def test_on_v2_batches_of_v21_questions_refuse_before_any_request(api_env):
    with NextCallerClient() as nc:
        for start in (
            lambda: nc.iter_lookup_many(["2125558383"], fraud=True),
            lambda: nc.iter_lookup_emails(["demo@nextcaller.com"]),
        ):
            with pytest.raises(errors.NeedsNewerAPIError):
                start()
    assert api_env.httpd.request_count == 0


# -- the same endpoints and refusals, in both versions ------------------------------------------


def test_both_versions_no_record_bad_number_correction_and_retries(sandbox, api_version):
    with NextCallerClient(sleep=lambda s: None) as nc:
        assert not nc.lookup("2025550999").found  # 404 "no record": an empty result, not an error
        resp = nc.transport.request("GET", "records/", params={"phone": "123", "format": "json"})
        with pytest.raises(errors.InvalidPhoneNumberAPIError) as bad:
            nc.transport.decode(resp)
        assert bad.value.code == 555 and bad.value.status == 400  # "555" on v2.1, 555 on v2
        # a correction: {"success": true} on v2, 204 and no body on v2.1 — both are success
        assert nc.update_profile(SEINFELD_ID, {"first_name": "Jerome"}) == {"first_name": "Jerome"}
        assert sandbox.store.get(SEINFELD_ID)["first_name"] == "Jerome"
        with pytest.raises(errors.InvalidProfileIdError):
            nc.update_profile("f" * 30, {"email": "a@b.co"})
        with pytest.raises(errors.ValidationError) as refused:
            nc.transport.decode(
                nc.transport.request("POST", f"users/{SEINFELD_ID}/", params={"format": "json"}, body={"phone1": "12"})
            )
        assert "phone1" in refused.value.details
        sandbox.inject(503, count=1)
        sandbox.inject(429, code=1061, retry_after="0", count=1)
        assert nc.lookup("3125550142").found
    attempts = [r for r in sandbox.httpd.signed_requests if r["query"].get("phone") == ["3125550142"]]
    assert len(attempts) == 3  # 503, 429, then the answer
    if api_version == "v2":
        assert len({a["nonce"] for a in attempts}) == 3  # v2 signs every attempt anew
    else:
        assert len({a["credential"] for a in attempts}) == 1  # v2.1 sends the same Basic header
