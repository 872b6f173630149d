"""The sandbox, checked from outside with an ordinary OAuth 1.0a client (requests-oauthlib)."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests_oauthlib import OAuth1

from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, STATUS_CONSUMERS, Sandbox, synthetic_phone
from tests.support.common import PATIENCE, SEINFELD_ID


def _auth(sb, key=None, secret=None):
    return OAuth1(key or sb.consumer_key, secret or sb.consumer_secret)


def get(sb, path, auth=True, **params):
    params.setdefault("format", "json")
    return requests.get(sb.url + path, params=params, auth=_auth(sb) if auth is True else auth or None, timeout=10)


def test_lookup_returns_the_documented_record_with_string_booleans(sandbox):
    resp = get(sandbox, "/v2/records/", phone="2125558383")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    (record,) = resp.json()["records"]
    assert record["id"] == SEINFELD_ID
    assert record["name"] == "Jerry Seinfeld"
    assert record["member"] == "true" and record["billing_info_on_file"] == "true"
    assert record["phone"] == [{"number": "2125558383"}]
    assert record["address"][0]["zip_code"] == "10024"
    assert set(record) == {
        "id",
        "first_name",
        "last_name",
        "name",
        "language",
        "fraud_threat",
        "email",
        "member",
        "billing_info_on_file",
        "phone",
        "carrier",
        "address",
        "department",
    }


def test_xml_is_well_formed_response_records_object(sandbox):
    resp = get(sandbox, "/v2/records/", phone="2125558383", format="xml")
    assert resp.status_code == 200
    root = ET.fromstring(resp.content)
    assert root.tag == "response"
    obj = root.find("records/object")
    assert obj is not None
    assert obj.findtext("name") == "Jerry Seinfeld"
    assert obj.findtext("member") == "true"
    assert obj.findtext("phone/object/number") == "2125558383"
    assert obj.find("address/object/extended_zip") is not None


def test_xml_errors_use_the_same_shape(sandbox):
    resp = get(sandbox, "/v2/records/", phone="123", format="xml")
    root = ET.fromstring(resp.content)
    assert resp.status_code == 400
    assert root.findtext("error/code") == "555"


def test_several_records_for_one_number(sandbox):
    records = get(sandbox, "/v2/records/", phone=HOUSEHOLD_PHONE).json()["records"]
    assert [r["first_name"] for r in records] == ["Alex", "Sam"]


@pytest.mark.parametrize("phone", ["212555838", "21255583831", "212555838a", "", "２１２５５５８３８３"])
def test_bad_phone_is_555_with_documented_message(sandbox, phone):
    resp = get(sandbox, "/v2/records/", phone=phone)
    assert resp.status_code == 400
    assert resp.json() == {
        "error": {
            "message": "The number you have entered is invalid. Please ensure your number contains 10 digits.",
            "type": "Authentication",
            "code": 555,
        }
    }


def test_unknown_number_is_404(sandbox):
    resp = get(sandbox, "/v2/records/", phone="2025550999")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == 404


def test_unknown_user_id_is_405(sandbox):
    for pid in ("a" * 30, "nope"):
        post = requests.post(
            sandbox.url + f"/v2/users/{pid}/",
            params={"format": "json"},
            json={"first_name": "X"},
            auth=_auth(sandbox),
            timeout=10,
        )
        assert post.status_code == 404 and post.json()["error"]["code"] == 405


def test_v2_has_no_get_of_a_profile_by_id(sandbox):
    # The v2 document offers only POST /v2/users/ID/: a GET is a route it does not offer, answered as such.
    for pid in (SEINFELD_ID, "a" * 30):
        resp = get(sandbox, f"/v2/users/{pid}/")
        assert resp.status_code == 405 and resp.headers["Allow"] == "POST"
        assert resp.json()["error"]["code"] != 405  # not "Invalid UID": the id is not the problem
    assert get(sandbox, f"/v2/users/{SEINFELD_ID}/", auth=False).json()["error"]["code"] == 1048  # auth first


def test_post_changes_only_the_fields_sent(sandbox):
    before = sandbox.store.get(SEINFELD_ID)
    resp = requests.post(
        sandbox.url + f"/v2/users/{SEINFELD_ID}/",
        params={"format": "json"},
        json={"first_name": "Clark", "shipping_address1": {"line1": "225 Kryptonite Ave."}},
        auth=_auth(sandbox),
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json() == {"success": True}
    after = sandbox.store.get(SEINFELD_ID)
    assert after["first_name"] == "Clark"
    assert after["address"][0]["line1"] == "225 Kryptonite Ave."
    assert after["address"][0]["line2"] == before["address"][0]["line2"]
    assert after["address"][0]["city"] == before["address"][0]["city"]
    for field in ("last_name", "email", "phone", "carrier", "member"):
        assert after[field] == before[field]


def test_post_validation_errors_name_the_fields(sandbox):
    resp = requests.post(
        sandbox.url + f"/v2/users/{SEINFELD_ID}/",
        params={"format": "json"},
        json={"email": "nope", "shipping_address1": {"state": "New York"}, "age": "3"},
        auth=_auth(sandbox),
        timeout=10,
    )
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == 1054
    assert set(err["details"]) == {"email", "shipping_address1.state", "age"}


# -- OAuth -------------------------------------------------------------------------


def test_unsigned_request_is_1048(sandbox):
    resp = get(sandbox, "/v2/records/", auth=None, phone="2125558383")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 1048


def test_unknown_key_is_1046(sandbox):
    resp = get(sandbox, "/v2/records/", auth=OAuth1("NOSUCHKEY12345", "whatever"), phone="2125558383")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 1046


def test_wrong_secret_is_refused(sandbox):
    resp = get(sandbox, "/v2/records/", auth=OAuth1(sandbox.consumer_key, "wrong-secret"), phone="2125558383")
    assert resp.status_code == 401
    assert "signature" in resp.json()["error"]["message"].lower()


def test_tampered_query_is_refused(sandbox):
    req = requests.Request(
        "GET", sandbox.url + "/v2/records/", params={"phone": "2125558383", "format": "json"}, auth=_auth(sandbox)
    ).prepare()
    req.url = req.url.replace("2125558383", "3125550142")
    resp = requests.Session().send(req, timeout=10)
    assert resp.status_code == 401


def test_replayed_nonce_is_refused(sandbox):
    req = requests.Request(
        "GET", sandbox.url + "/v2/records/", params={"phone": "2125558383", "format": "json"}, auth=_auth(sandbox)
    ).prepare()
    with requests.Session() as s:
        assert s.send(req, timeout=10).status_code == 200
        replay = s.send(req, timeout=10)
    assert replay.status_code == 401
    assert "nonce" in replay.json()["error"]["message"].lower()


@pytest.mark.parametrize("offset", [-301 - 60, 400])
def test_timestamp_more_than_five_minutes_off_is_refused(sandbox, offset):
    client = OAuthClient(
        sandbox.consumer_key, client_secret=sandbox.consumer_secret, timestamp=str(int(time.time()) + offset)
    )
    url = sandbox.url + "/v2/records/?phone=2125558383&format=json"
    uri, headers, _ = client.sign(url)
    resp = requests.get(uri, headers=headers, timeout=10)
    assert resp.status_code == 401
    assert "timestamp" in resp.json()["error"]["message"].lower()


def test_timestamp_within_five_minutes_is_accepted(sandbox):
    client = OAuthClient(
        sandbox.consumer_key, client_secret=sandbox.consumer_secret, timestamp=str(int(time.time()) - 200)
    )
    uri, headers, _ = client.sign(sandbox.url + "/v2/records/?phone=2125558383&format=json")
    assert requests.get(uri, headers=headers, timeout=10).status_code == 200


def test_documented_header_shape_with_realm_and_empty_token_is_accepted(sandbox):
    client = OAuthClient(
        sandbox.consumer_key,
        client_secret=sandbox.consumer_secret,
        resource_owner_key="",
        realm="https://api.nextcaller.com/",
    )
    uri, headers, _ = client.sign(sandbox.url + "/v2/records/?phone=2125558383&format=json")
    assert 'realm="https://api.nextcaller.com/"' in headers["Authorization"]
    assert requests.get(uri, headers=headers, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "key,code,http",
    [
        ("INACTIVEKEY000000001", 1047, 401),
        ("EXPIREDKEY0000000001", 1049, 401),
        ("BILLINGFAILKEY000001", 8643, 402),
        ("EXPIREDTRIALKEY00001", 8644, 403),
    ],
)
def test_account_states_answer_their_documented_codes(sandbox, key, code, http):
    assert key in STATUS_CONSUMERS
    resp = get(sandbox, "/v2/records/", auth=OAuth1(key, sandbox.consumer_secret), phone="2125558383")
    assert (resp.status_code, resp.json()["error"]["code"]) == (http, code)


# -- load, faults, persistence --------------------------------------------------------


def test_200_lookups_from_32_threads_all_answered(sandbox):
    numbers = [synthetic_phone(i) for i in range(200)]

    def one(number):
        r = requests.get(
            sandbox.url + "/v2/records/", params={"phone": number, "format": "json"}, auth=_auth(sandbox), timeout=30
        )
        return r.status_code, r.json()["records"][0]["phone"][0]["number"]

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, numbers))
    assert results == [(200, n) for n in numbers]
    assert len(set(numbers)) == 200


def test_synthetic_people_are_deterministic(tmp_path):
    with Sandbox(records=50, db=tmp_path / "a.db") as a, Sandbox(records=50, db=tmp_path / "b.db") as b:
        ra = get(a, "/v2/records/", phone=synthetic_phone(17)).json()
        rb = get(b, "/v2/records/", phone=synthetic_phone(17)).json()
    assert ra == rb and ra["records"][0]["name"]


def test_correction_survives_a_restart(tmp_path):
    db = tmp_path / "sandbox.db"
    with Sandbox(records=10, db=db) as sb:
        resp = requests.post(
            sb.url + f"/v2/users/{SEINFELD_ID}/",
            params={"format": "json"},
            json={"email": "jerry@example.org"},
            auth=_auth(sb),
            timeout=10,
        )
        assert resp.json() == {"success": True}
    with Sandbox(records=20, db=db) as sb:
        record = get(sb, "/v2/records/", phone="2125558383").json()["records"][0]
        assert record["email"] == "jerry@example.org"
        assert sb.store.count() == 23  # grown, corrections kept


def test_fail_rate_answers_503(sandbox):
    sandbox.fail_rate = 1.0
    assert get(sandbox, "/v2/records/", phone="2125558383").status_code == 503
    sandbox.fail_rate = 0.0
    assert get(sandbox, "/v2/records/", phone="2125558383").status_code == 200


def test_latency_is_added(sandbox):
    sandbox.latency_ms = 150
    started = time.perf_counter()
    get(sandbox, "/v2/records/", phone="2125558383")
    assert time.perf_counter() - started >= 0.15


def test_rate_limit_answers_1061_with_retry_after(tmp_path):
    with Sandbox(records=5, rate_limit=2) as sb:
        codes = [get(sb, "/v2/records/", phone="2125558383") for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert codes[2].json()["error"]["code"] == 1061
    assert int(codes[2].headers["Retry-After"]) >= 1


def test_openapi_document_describes_the_endpoints(sandbox):
    doc = requests.get(sandbox.url + "/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.")
    assert {"/v2/records/", "/v2/users/{id}/"} <= set(doc["paths"])
    assert doc["servers"][0]["url"] == sandbox.url
    assert "post" in doc["paths"]["/v2/users/{id}/"]


def test_cli_sandbox_prints_url_and_credentials(tmp_path):
    db = tmp_path / "cli.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nextcaller_ops",
            "sandbox",
            "--port",
            "0",
            "--records",
            "5",
            "--db",
            str(db),
            "--consumer-key",
            "MYKEY123",
            "--consumer-secret",
            "my-secret-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert match, first
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "NEXTCALLER_CONSUMER_KEY=MYKEY123" in "".join(lines)
        url = match.group(1)
        resp = requests.get(
            url + "/v2/records/",
            params={"phone": "2125558383", "format": "json"},
            auth=OAuth1("MYKEY123", "my-secret-1"),
            timeout=10,
        )
        assert resp.status_code == 200
        assert json.loads(resp.text)["records"][0]["id"] == SEINFELD_ID
    finally:
        proc.terminate()
        proc.wait(timeout=PATIENCE)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE", "QUERY"])
def test_other_methods_get_a_json_405(sandbox, method):
    resp = requests.request(
        method,
        sandbox.url + "/v2/records/",
        params={"phone": "2125558383", "format": "json"},
        auth=_auth(sandbox),
        timeout=10,
    )
    assert resp.status_code == 405 and resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"]["message"].startswith(f"Method {method}")


def test_list_numbers_gives_numbers_the_sandbox_has(sandbox):
    from tests.support.common import run_cli

    proc = run_cli("sandbox", "--records", "300", "--list-numbers", "5")
    numbers = proc.stdout.split()
    assert proc.returncode == 0 and len(numbers) == 7 and numbers[:2] == ["2125558383", HOUSEHOLD_PHONE]
    for number in numbers:
        assert get(sandbox, "/v2/records/", phone=number).status_code == 200


def test_query_string_signing_is_accepted(sandbox):
    auth = OAuth1(sandbox.consumer_key, sandbox.consumer_secret, signature_type="query")
    assert get(sandbox, "/v2/records/", auth=auth, phone="2125558383").status_code == 200


def test_xml_success_is_lowercase_true(sandbox):
    resp = requests.post(
        sandbox.url + f"/v2/users/{SEINFELD_ID}/",
        params={"format": "xml"},
        json={"first_name": "Jerry"},
        auth=_auth(sandbox),
        timeout=10,
    )
    assert ET.fromstring(resp.content).findtext("success") == "true"


def test_head_answers_like_get_without_a_body(sandbox):
    resp = requests.head(
        sandbox.url + "/v2/records/", params={"phone": "2125558383", "format": "json"}, auth=_auth(sandbox), timeout=10
    )
    assert resp.status_code == 200 and resp.content == b"" and int(resp.headers["Content-Length"]) > 100
