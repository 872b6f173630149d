"""The CLI on API v2.1: lookups by email and by name and address, fraud, profile, login; refusals; v2 unchanged."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from nextcaller_ops.api.render import BATCH_COLUMNS
from nextcaller_ops.cli.main import main
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE
from tests.support.common import SEINFELD_ID, run_cli

NAME = ["--name", "Jerry Seinfeld", "--address", "129 West 81st Street"]


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_lookup_by_email_text_card_shows_the_v21_fields(api_env_v21, capsys):
    code, out, _ = cli(capsys, "lookup", "--email", "demo@nextcaller.com")
    assert code == 0 and "Jerry Seinfeld" in out and SEINFELD_ID in out
    for line in (
        "Line type        LAN",
        "Age              45-54",
        "Spoofed          no",
        "twitter: https://twitter.com/nextcaller",
    ):
        assert line in out


def test_lookup_by_email_json_is_the_api_document_and_a_miss_exits_1(api_env_v21, capsys):
    code, out, _ = cli(capsys, "lookup", "--email", "demo@nextcaller.com", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["records"][0]["phone"][0]["line_type"] == "LAN"
    code, out, err = cli(capsys, "lookup", "--email", "nobody@example.org", "--format", "json")
    assert code == 1 and json.loads(out) == {"records": []} and "No record for nobody@example.org." in err
    code, out, _ = cli(capsys, "lookup", "--email", "nobody@example.org")
    assert code == 1 and out.strip() == "No record for nobody@example.org."


@pytest.mark.parametrize("place", [["--zip", "10024"], ["--city", "New York", "--state", "NY"]])
def test_lookup_by_name_and_address(api_env_v21, capsys, place):
    code, out, _ = cli(capsys, "lookup", *NAME, *place)
    assert code == 0 and SEINFELD_ID in out


def test_lookup_by_name_csv_one_row_per_record_with_the_v21_columns(api_env_v21, capsys):
    code, out, _ = cli(
        capsys, "lookup", "--name", "Rivera, Sam", "--address", "233 S Wacker Dr", "--zip", "60606", "--format", "csv"
    )
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and row["name"] == "Sam Rivera" and row["spoof"] == "true" and row["line_type"] == "Mobile"
    assert row["input"] == "Sam Rivera, 233 S Wacker Dr, 60606" and row["status"] == "found"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--name", "Seinfeld", "--address", "1 Main St", "--zip", "10024"], "first and a last name"),
        (["--name", "Jerry Seinfeld", "--zip", "10024"], "address: required"),
        ([*NAME, "--zip", "1002"], "zip_code: must be 5 digits"),
        ([*NAME, "--city", "New York"], "a city and a state"),
        (["--address", "1 Main St", "--zip", "10024"], "go with --name"),
        (["--email", "demo@nextcaller.com", *NAME], "not both"),
        (["2125558383", "--email", "demo@nextcaller.com"], "one kind of lookup at a time"),
        (["--email", "demo.nextcaller.com"], "not an email address"),
        (["--email", "demo@nextcaller.com", "--format", "xml"], "--format xml is for phone numbers"),
    ],
)
def test_queries_the_clients_refuse_exit_2_and_send_nothing(api_env_v21, capsys, args, needle):
    code, out, err = cli(capsys, "lookup", *args)
    assert code == 2 and needle in err and "Traceback" not in err and out == ""
    assert api_env_v21.httpd.request_count == 0


@pytest.mark.parametrize(
    "args",
    [
        ["lookup", "--email", "demo@nextcaller.com"],
        ["lookup", *NAME, "--zip", "10024"],
        ["fraud", "2125558383"],
        ["profile", SEINFELD_ID],
    ],
    ids=["email", "name", "fraud", "profile"],
)
def test_on_v2_the_v21_verbs_say_so_in_one_line(api_env, capsys, args):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == "" and "needs API v2.1" in err and "--api-version v2.1" in err
    assert len(err.strip().splitlines()) == 1 and api_env.httpd.request_count == 0


def test_fraud_text_json_and_csv(api_env_v21, capsys):
    code, out, _ = cli(capsys, "fraud", "(312) 555-0142", "212-555-8383")
    assert code == 0
    assert out.splitlines() == [
        "(312) 555-0142  fraud risk 🔴 high · spoofed: ⚠️ yes — the caller ID may be spoofed",
        "(212) 555-8383  fraud risk 🟢 low · spoofed: no",
    ]
    code, out, _ = cli(capsys, "fraud", HOUSEHOLD_PHONE, "--format", "json")
    assert code == 0 and json.loads(out) == {"phone": HOUSEHOLD_PHONE, "spoofed": "true", "fraud_risk": "high"}
    code, out, _ = cli(capsys, "fraud", HOUSEHOLD_PHONE, "2125558383", "--format", "json")
    assert [json.loads(line)["phone"] for line in out.splitlines()] == [HOUSEHOLD_PHONE, "2125558383"]
    code, out, _ = cli(capsys, "fraud", HOUSEHOLD_PHONE, "--format", "csv")
    assert list(csv.DictReader(io.StringIO(out))) == [
        {"phone": HOUSEHOLD_PHONE, "spoofed": "true", "fraud_risk": "high", "error": ""}
    ]


def test_fraud_refuses_a_bad_number_before_any_request(api_env_v21, capsys):
    code, _, err = cli(capsys, "fraud", "2125558383", "555-01")
    assert code == 2 and "too short" in err and api_env_v21.httpd.request_count == 0


def test_fraud_csv_keeps_going_after_an_api_error(api_env_v21, capsys):
    api_env_v21.inject(503, count=4)  # the first number's attempts all fail
    code, out, err = cli(capsys, "fraud", "2125558383", HOUSEHOLD_PHONE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and [r["fraud_risk"] for r in rows] == ["", "high"] and rows[0]["error"]
    assert "error:" in err


def test_profile_by_id_text_and_json(api_env_v21, capsys):
    code, out, _ = cli(capsys, "profile", SEINFELD_ID)
    assert code == 0 and out.startswith("Jerry Seinfeld") and "Age              45-54" in out
    code, out, _ = cli(capsys, "profile", SEINFELD_ID, "--format", "json")
    assert code == 0 and json.loads(out)["education"] == "Completed College"
    code, _, err = cli(capsys, "profile", "0" * 30)
    assert code == 1 and "[405]" in err
    code, _, err = cli(capsys, "profile", "xyz")
    assert code == 2 and "not a profile id" in err


def test_phone_csv_columns_are_v2_s_on_v2_and_grow_on_v21(sandbox, api_version, capsys):
    code, out, _ = cli(capsys, "lookup", "2125558383", "--format", "csv")
    reader = csv.DictReader(io.StringIO(out))
    (row,) = list(reader)
    assert code == 0
    if api_version == "v2":
        assert tuple(reader.fieldnames or ()) == BATCH_COLUMNS  # unchanged
    else:
        assert (row["line_type"], row["spoof"], row["age"]) == ("LAN", "false", "45-54")
        assert "https://twitter.com/nextcaller" in row["social_links"] and row["error"] == ""


def test_file_rows_on_v21_have_the_v21_columns(api_env_v21, capsys, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(f"2125558383\n{HOUSEHOLD_PHONE}\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(path), "--quiet")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["line_type"] for r in rows] == ["LAN", "Mobile"]


def test_a_wrong_password_is_one_line_about_the_username_or_password(api_env_v21, capsys, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_API_PASSWORD", "not-the-password")
    code, _, err = cli(capsys, "lookup", "2125558383")
    assert code == 1 and "username or password" in err and "login --auth basic" in err and "signature" not in err


def test_no_basic_credentials_exit_2_naming_the_variables(sandbox, capsys, monkeypatch, file_keyring):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", sandbox.url)
    monkeypatch.setenv("NEXTCALLER_API_VERSION", "v2.1")
    code, _, err = cli(capsys, "lookup", "--email", "demo@nextcaller.com")
    assert code == 2 and "no API username and password" in err and "NEXTCALLER_API_USERNAME" in err


def test_login_status_lookup_logout_on_v21_with_a_file_keyring(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_CONSUMER", "NEXTCALLER_API_"))}
    password = sandbox.api_password
    login = run_cli(
        "login",
        "--profile",
        "reseller",
        "--base-url",
        sandbox.url,
        "--api-version",
        "v2.1",
        "--account-id",
        "acme",
        "--username",
        sandbox.api_username,
        "--secret-stdin",
        env=env,
        input=password + "\n",
    )
    assert login.returncode == 0, login.stderr
    assert "API username EG2D…3SE3" in login.stdout and "API v2.1, HTTP Basic auth; verified" in login.stdout
    status = run_cli("status", "--profile", "reseller", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "(API v2.1, HTTP Basic auth)" in status.stdout and "account:   acme" in status.stdout
    assert "username:  EG2D…3SE3 (from keyring)" in status.stdout and "API:       ok" in status.stdout
    lookup = run_cli("lookup", "--email", "demo@nextcaller.com", "--profile", "reseller", env=env)
    assert lookup.returncode == 0 and "Jerry Seinfeld" in lookup.stdout
    assert {r.get("account_id") for r in sandbox.httpd.signed_requests} == {"acme"}
    logout = run_cli("logout", "--profile", "reseller", env=env)
    after = run_cli("fraud", "2125558383", "--profile", "reseller", env=env)
    assert logout.returncode == 0 and after.returncode == 2 and "login --auth basic" in after.stderr
    for proc in (login, status, lookup, logout, after):
        assert password not in proc.stdout + proc.stderr


def test_login_refused_by_basic_auth_stores_nothing(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_CONSUMER", "NEXTCALLER_API_"))}
    login = run_cli(
        "login",
        "--base-url",
        sandbox.url,
        "--api-version",
        "v2.1",
        "--username",
        sandbox.api_username,
        "--secret-stdin",
        env=env,
        input="not-the-password\n",
    )
    assert login.returncode == 1 and "username or password" in login.stderr
    status = run_cli("status", "--offline", env={**env, "NEXTCALLER_API_VERSION": "v2.1"})
    assert "username:  none" in status.stdout
