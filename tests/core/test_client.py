"""NextCallerClient against the sandbox over real HTTP."""

from __future__ import annotations

import threading

import pytest

from nextcaller_ops import errors
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import load_settings
from nextcaller_ops.credentials import Credentials
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, synthetic_phone
from tests.support.common import SEINFELD_ID


def test_lookup_parses_profiles(client):
    result = client.lookup("(212) 555-8383 x12")
    assert result.found and result.extension == "12"
    (profile,) = result.profiles
    assert profile.name == "Jerry Seinfeld" and profile.member is True


def test_several_records(client):
    assert [p.first_name for p in client.lookup(HOUSEHOLD_PHONE).profiles] == ["Alex", "Sam"]


def test_no_record_is_an_empty_result(client):
    result = client.lookup("2025550999")
    assert not result.found and result.profiles == ()


def test_every_request_carries_format_and_header_auth(client, sandbox):
    client.lookup("2125558383")
    client.lookup_raw("2125558383", "xml")
    client.check()
    assert [r["path"] for r in sandbox.httpd.signed_requests] == [
        "/v2/records/",
        "/v2/records/",
        "/v2/users/" + "0" * 30 + "/",
    ]
    assert [r["query"]["format"] for r in sandbox.httpd.signed_requests] == [["json"], ["xml"], ["json"]]
    assert sandbox.httpd.signed_requests[0]["query"]["phone"] == ["2125558383"]


def test_lookup_raw_xml_is_the_apis_document(client):
    text = client.lookup_raw("2125558383", "xml")
    assert text.lstrip().startswith("<?xml") and "<response>" in text and "Seinfeld" in text


def test_invalid_phone_costs_nothing(client, sandbox):
    with pytest.raises(errors.InvalidPhoneError):
        client.lookup("212-555-83")
    assert sandbox.httpd.request_count == 0 and client.requests_sent == 0


def test_update_sends_only_given_fields_and_invalidates_cache(client, sandbox):
    assert client.lookup("2125558383").profiles[0].email == "demo@nextcaller.com"
    sent = client.update_profile(SEINFELD_ID, {"email": "jerry@example.com", "shipping_address1.line2": "Apt 5B"})
    assert sent == {"email": "jerry@example.com", "shipping_address1": {"line2": "Apt 5B"}}
    assert sandbox.store.corrections(SEINFELD_ID)[-1]["body"] == sent
    after = client.lookup("2125558383")
    assert not after.cached and after.profiles[0].email == "jerry@example.com"
    assert after.profiles[0].addresses[0].line1 == "129 West 81st Street"


def test_update_refuses_unknown_field_and_bad_id_without_request(client, sandbox):
    with pytest.raises(errors.UsageError):
        client.update_profile(SEINFELD_ID, {"favourite_colour": "blue"})
    with pytest.raises(errors.UsageError):
        client.update_profile("not-an-id", {"email": "a@b.co"})
    assert sandbox.httpd.request_count == 0


def test_unknown_profile_id_is_405(client):
    with pytest.raises(errors.InvalidProfileIdError) as info:
        client.update_profile("f" * 30, {"email": "a@b.co"})
    assert info.value.code == 405


def test_v2_cannot_read_a_profile_by_id(client, sandbox):
    assert client.can_read_profile is False  # the v2 document has only the POST; v2.1 adds the GET
    with pytest.raises(errors.NeedsNewerAPIError, match=r"needs API v2\.1"):
        client.get_profile(SEINFELD_ID)  # refused before any request
    assert sandbox.httpd.request_count == 0
    resp = client.transport.request("GET", f"users/{SEINFELD_ID}/", params={"format": "json"})
    with pytest.raises(errors.APIError) as info:  # and the v2 sandbox has no such route
        client.transport.decode(resp)
    assert info.value.status == 405 and not isinstance(info.value, errors.InvalidProfileIdError)
    assert client.check()["ok"]  # the live check still counts any answer past authentication


# -- cache ---------------------------------------------------------------------------


def test_cache_hit_makes_no_request_and_refresh_bypasses(client, sandbox):
    client.lookup("2125558383")
    again = client.lookup("212.555.8383")
    assert again.cached and sandbox.httpd.request_count == 1
    fresh = client.lookup("2125558383", refresh=True)
    assert not fresh.cached and sandbox.httpd.request_count == 2


def test_misses_are_cached_too(client, sandbox):
    client.lookup("2025550999")
    client.lookup("2025550999")
    assert sandbox.httpd.request_count == 1


def test_cache_expires(api_env):
    clock = [1000.0]
    from nextcaller_ops.cache.memory import LookupCache

    cache = LookupCache(ttl=60, miss_ttl=5, clock=lambda: clock[0])
    with NextCallerClient(cache=cache) as nc:
        nc.lookup("2125558383")
        clock[0] += 59
        assert nc.lookup("2125558383").cached
        clock[0] += 2
        assert not nc.lookup("2125558383").cached
    assert api_env.httpd.request_count == 2


def test_single_flight_one_request_for_many_threads(client, sandbox):
    sandbox.latency_ms = 200
    barrier = threading.Barrier(16)
    results = []

    def ask():
        barrier.wait()
        results.append(client.lookup("2125558383"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16 and all(r.profiles[0].id == SEINFELD_ID for r in results)
    assert sandbox.httpd.request_count == 1


# -- retries -------------------------------------------------------------------------


def test_503_is_retried_with_a_fresh_signature(client, sandbox):
    sandbox.inject(503, count=2)
    assert client.lookup("2125558383").found
    assert client.requests_sent == 3 and len(client.slept) == 2
    nonces = [r["nonce"] for r in sandbox.httpd.signed_requests]
    assert len(nonces) == 3 and len(set(nonces)) == 3


def test_429_honours_retry_after(client, sandbox):
    sandbox.inject(429, code=1061, retry_after="2")
    assert client.lookup("2125558383").found
    assert client.slept == [2.0]


def test_429_retry_after_is_capped(api_env, sandbox):
    slept = []
    settings = load_settings(max_retry_wait=5.0)
    with NextCallerClient(settings=settings, sleep=slept.append) as nc:
        sandbox.inject(429, code=1061, retry_after="3600")
        nc.lookup("2125558383")
    assert slept == [5.0]


def test_429_without_retry_after_backs_off(client, sandbox):
    sandbox.inject(429, code=1061)
    client.lookup("2125558383")
    assert len(client.slept) == 1 and 0 < client.slept[0] <= 1


def test_persistent_503_ends_in_server_error(client, sandbox):
    sandbox.fail_rate = 1.0
    with pytest.raises(errors.ServerError) as info:
        client.lookup("2125558383")
    assert client.requests_sent == 4
    assert "try again" in str(info.value)


def test_persistent_429_ends_in_rate_limit_error(client, sandbox):
    sandbox.inject(429, code=1061, retry_after="1", count=4)
    with pytest.raises(errors.RateLimitError) as info:
        client.lookup("2125558383")
    assert info.value.code == 1061 and info.value.retry_after == 1.0


def test_auth_errors_are_not_retried(api_env, sandbox):
    creds = Credentials("NOSUCHKEY00", "secret-xyz", source="explicit")
    with NextCallerClient(creds, sleep=lambda s: None) as nc:
        with pytest.raises(errors.InvalidConsumerKeyError):
            nc.lookup("2125558383")
        assert nc.requests_sent == 1


def test_unreachable_api_is_a_transport_error(monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("NEXTCALLER_BASE_URL", f"http://127.0.0.1:{port}")
    creds = Credentials("KEY1234567", "secret-1234567", source="explicit")
    with NextCallerClient(creds, sleep=lambda s: None) as nc:
        with pytest.raises(errors.APIUnreachableError) as info:
            nc.lookup("2125558383")
    assert "connection refused" in str(info.value) and "secret-1234567" not in str(info.value)


# -- batches -------------------------------------------------------------------------


def test_lookup_many_in_order_with_dedupe_and_per_item_errors(client, sandbox):
    inputs = ["2125558383", "bogus", synthetic_phone(3), "(212) 555-8383", "2025550999", synthetic_phone(4)]
    items = client.lookup_many(inputs, concurrency=4)
    assert [i.input for i in items] == inputs
    assert [i.status for i in items] == ["found", "invalid", "found", "found", "not_found", "found"]
    assert [i.duplicate for i in items] == [False, False, False, True, False, False]
    assert sandbox.httpd.request_count == 4  # the duplicate was not fetched again


def test_lookup_many_streams_with_a_bounded_window(client, sandbox):
    numbers = [synthetic_phone(i) for i in range(120)]
    seen = []
    for consumed, item in enumerate(client.iter_lookup_many(iter(numbers), concurrency=4, window=8), 1):
        seen.append(item.phone)
        # never more than `window` inputs ahead of what has been yielded
        assert sandbox.httpd.request_count <= consumed + 8
    assert seen == numbers


def test_lookup_many_reports_api_errors_per_item(client, sandbox):
    sandbox.inject(400, code=555)
    items = client.lookup_many(["2125558383"])
    assert items[0].status == "error" and items[0].error.code == 555


def test_repr_hides_the_secret(client):
    assert client.credentials.consumer_secret not in repr(client)
    assert client.credentials.consumer_secret not in repr(client.credentials)


def test_every_lookup_path_calls_the_audit_hook(api_env):
    seen = []
    with NextCallerClient(audit=lambda *a: seen.append(a)) as nc:
        nc.lookup("2125558383")
        nc.lookup("2125558383")
        nc.lookup_raw("2125558383", "xml")
        nc.lookup("2025550999")
        with pytest.raises(errors.InvalidProfileIdError):
            nc.update_profile("f" * 30, {"email": "a@b.co"})
    assert [(a[0], a[1], a[2]) for a in seen] == [
        ("lookup", "2125558383", "found 1"),
        ("lookup", "2125558383", "found 1"),
        ("lookup", "2125558383", "found 1"),
        ("lookup", "2025550999", "no record"),
        ("correction", None, "error: InvalidProfileIdError"),
    ]
    assert seen[1][3] == "cached" and seen[2][3] == "xml"
