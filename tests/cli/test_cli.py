"""The `nextcaller-ops` command: formats, exit codes, refusals, login, no secret in output."""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, synthetic_phone
from tests.support.common import SEINFELD_ID, run_cli


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_lookup_text_card(api_env, capsys):
    code, out, _err = cli(capsys, "lookup", "(212) 555-8383")
    assert code == 0
    assert "Jerry Seinfeld" in out and "Verizon Wireless" in out and "low" in out and SEINFELD_ID in out
    assert "129 West 81st Street" in out


def test_lookup_json_is_the_api_document(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "+1 212.555.8383", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["records"][0]["id"] == SEINFELD_ID and doc["records"][0]["member"] == "true"


def test_lookup_xml_asks_the_api_for_xml(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "1-212-555-8383", "--format", "xml")
    assert code == 0
    assert ET.fromstring(out).find("records/object/name").text == "Jerry Seinfeld"
    assert api_env.httpd.signed_requests[-1]["query"]["format"] == ["xml"]


def test_lookup_csv_one_row_per_input(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "2125558383", HOUSEHOLD_PHONE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["phone"], r["status"], r["records"]) for r in rows] == [
        ("2125558383", "found", "1"),
        (HOUSEHOLD_PHONE, "found", "2"),
    ]


def test_several_records_show_several_cards(api_env, capsys):
    _code, out, _ = cli(capsys, "lookup", HOUSEHOLD_PHONE)
    assert "Alex Rivera" in out and "Sam Rivera" in out


def test_no_record_exits_1_with_a_sentence(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "202-555-0999")
    assert code == 1 and "No record for (202) 555-0999." in out


def test_bad_input_exits_2_and_sends_nothing(api_env, capsys):
    code, _out, err = cli(capsys, "lookup", "2125558383", "555-01")
    assert code == 2 and "too short" in err and "Traceback" not in err
    assert api_env.httpd.request_count == 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (["update", SEINFELD_ID, "--set", "favourite=blue"], "unknown field"),
        (["update", "xyz", "--set", "email=a@b.co"], "not a profile id"),
        (["update", SEINFELD_ID, "--set", "email"], "FIELD=VALUE"),
        (["update", SEINFELD_ID], "nothing to change"),
        (["update", SEINFELD_ID, "--set", "shipping_address1.zip_code=ABCDE"], "5-digit"),
    ],
)
def test_update_refusals_exit_2_without_a_request(api_env, capsys, args, needle):
    code, _, err = cli(capsys, *args)
    assert code == 2 and needle in err
    assert api_env.httpd.request_count == 0


def test_update_posts_only_given_fields(api_env, capsys):
    code, out, _ = cli(
        capsys,
        "update",
        SEINFELD_ID,
        "--set",
        "first_name=Clark",
        "--set",
        "shipping_address1.line1=225 Kryptonite Ave.",
    )
    assert code == 0 and "first_name = 'Clark'" in out
    assert api_env.store.corrections(SEINFELD_ID) == [
        {"id": SEINFELD_ID, "body": {"first_name": "Clark", "shipping_address1": {"line1": "225 Kryptonite Ave."}}}
    ]
    code, out, _ = cli(capsys, "lookup", "2125558383")
    assert "Clark Seinfeld" in out


def test_api_error_is_one_line_with_code_and_hint(api_env, capsys, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "EXPIREDKEY0000000001")
    code, _, err = cli(capsys, "lookup", "2125558383")
    assert code == 1
    assert err.strip().count("\n") == 0
    assert "[1049]" in err and "nextcaller-ops login" in err


def test_retries_after_503_and_429(api_env, capsys):
    api_env.inject(503)
    api_env.inject(429, code=1061, retry_after="0")
    code, out, _ = cli(capsys, "lookup", "2125558383")
    assert code == 0 and "Jerry Seinfeld" in out
    assert api_env.httpd.request_count == 3


def test_file_csv_in_order_with_status_column(api_env, capsys, tmp_path):
    src = tmp_path / "numbers.txt"
    numbers = ["2125558383", "# a comment", "", "nope", synthetic_phone(5), "212-555-8383", "2025550999"]
    src.write_text("\n".join(numbers) + "\n")
    code, out, err = cli(capsys, "lookup", "--file", str(src), "--concurrency", "3")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1  # rows invalid or not found: 1, the same rule as numbers on the line (issue 11, item 6)
    assert [r["input"] for r in rows] == ["2125558383", "nope", synthetic_phone(5), "212-555-8383", "2025550999"]
    assert [r["status"] for r in rows] == ["found", "invalid", "found", "found", "not_found"]
    assert "too short" not in rows[1]["error"] and rows[1]["error"]
    assert api_env.httpd.request_count == 3
    assert "5 rows" in err


def test_file_csv_with_phone_column(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text('when,phone,agent\n"Mon, 9am",(212) 555-8383,ann\nTue,3125550142,bob\n')
    _code, out, _ = cli(capsys, "lookup", "--file", str(src), "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["phone"] for r in rows] == ["2125558383", "3125550142"]


def test_file_stops_on_a_rejected_key(api_env, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "NOSUCHKEY000")
    src = tmp_path / "n.txt"
    src.write_text("\n".join(synthetic_phone(i) for i in range(50)))
    code, out, err = cli(capsys, "lookup", "--file", str(src), "--concurrency", "2")
    assert code == 1 and "[1046]" in err
    assert api_env.httpd.request_count == 0 and len(out.splitlines()) < 20


def test_missing_file_is_a_usage_error(api_env, capsys, tmp_path):
    code, _, err = cli(capsys, "lookup", "--file", str(tmp_path / "nope.txt"))
    assert code == 2 and "cannot read" in err


def test_no_credentials_exit_2_with_hint(capsys, file_keyring):
    code, _, err = cli(capsys, "lookup", "2125558383")
    assert code == 2 and "nextcaller-ops login" in err


# -- login / logout / status in a child process with a file keyring --------------------


def test_login_status_logout_with_a_file_keyring(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_CONSUMER")}
    secret = sandbox.consumer_secret
    login = run_cli(
        "login",
        "--profile",
        "ops",
        "--base-url",
        sandbox.url,
        "--consumer-key",
        sandbox.consumer_key,
        "--secret-stdin",
        env=env,
        input=secret + "\n",
    )
    assert login.returncode == 0, login.stderr
    assert "verified" in login.stdout

    status = run_cli("status", "--profile", "ops", env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "EG2D…3SE3" in status.stdout and "PlaintextKeyring" in status.stdout and "API:       ok" in status.stdout

    lookup = run_cli("lookup", "2125558383", "--profile", "ops", env=env)
    assert lookup.returncode == 0 and "Jerry Seinfeld" in lookup.stdout

    logout = run_cli("logout", "--profile", "ops", env=env)
    assert logout.returncode == 0
    after = run_cli("lookup", "2125558383", "--profile", "ops", env=env)
    assert after.returncode == 2 and "login" in after.stderr

    # the secret is in no output and in no file but the keyring's
    for proc in (login, status, lookup, logout, after):
        assert secret not in proc.stdout + proc.stderr
    keyring_files = set()
    for root, _, files in os.walk(isolated_env):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as fh:
                if secret.encode() in fh.read():
                    keyring_files.add(path)
    assert all("keyring" in p for p in keyring_files)


def test_login_with_a_wrong_secret_stores_nothing(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_CONSUMER")}
    login = run_cli(
        "login",
        "--base-url",
        sandbox.url,
        "--consumer-key",
        sandbox.consumer_key,
        "--secret-stdin",
        env=env,
        input="not-the-secret\n",
    )
    assert login.returncode == 1 and "signature" in login.stderr
    status = run_cli("status", "--offline", env=env)
    assert "none" in status.stdout


def test_help_and_no_command():
    proc = run_cli("--help")
    assert proc.returncode == 0 and "lookup" in proc.stdout and "sandbox" in proc.stdout
    assert run_cli().returncode == 2


def test_slack_login_stores_the_bot_secrets_in_the_keyring(file_keyring, capsys, monkeypatch):
    import io as _io

    from bot.settings import BotSettings

    monkeypatch.setattr("sys.stdin", _io.StringIO("xoxb-1-test-bot-token\nslack-signing-secret-9\n\n"))
    code, out, _ = cli(capsys, "slack-login", "--stdin")
    assert code == 0 and "xoxb…" in out and "slack-signing-secret-9" not in out
    settings = BotSettings.from_env(env={})
    assert (settings.bot_token, settings.signing_secret, settings.app_token) == (
        "xoxb-1-test-bot-token",
        "slack-signing-secret-9",
        "",
    )
    assert "xoxb-1-test-bot-token" not in repr(settings)


def test_login_reads_a_piped_secret_without_the_flag(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_CONSUMER")}
    login = run_cli(
        "login",
        "--base-url",
        sandbox.url,
        "--consumer-key",
        sandbox.consumer_key,
        env=env,
        input=sandbox.consumer_secret + "\n",
    )
    assert login.returncode == 0, login.stderr
    assert run_cli("lookup", "2125558383", env=env).returncode == 0


def test_xml_that_is_not_well_formed_is_shown_and_named(capsys, monkeypatch):
    from tests.support.rawserver import RawServer, reply

    body = b"<response><records><object><carrier>Verizon Wireless<carrier/></object></records></response>"
    with RawServer([reply("200 OK", body, "application/xml")]) as server:
        monkeypatch.setenv("NEXTCALLER_BASE_URL", server.url)
        monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "XMLKEY0000001")
        monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", "xml-secret-000001")
        code, out, err = cli(capsys, "lookup", "2125558383", "--format", "xml")
    assert code == 1 and "<carrier>Verizon Wireless<carrier/>" in out and "not well-formed" in err


def test_status_live_check_passes_when_the_api_has_no_users_endpoint(capsys, monkeypatch):
    from tests.support.rawserver import RawServer, reply

    with RawServer([reply("404 Not Found", b"<h1>Not Found</h1>", "text/html")]) as server:
        monkeypatch.setenv("NEXTCALLER_BASE_URL", server.url)
        monkeypatch.setenv("NEXTCALLER_CONSUMER_KEY", "CHECKKEY00001")
        monkeypatch.setenv("NEXTCALLER_CONSUMER_SECRET", "check-secret-0001")
        code, out, _ = cli(capsys, "status")
    assert code == 0 and "API:       ok" in out


def test_bot_refused_token_is_one_line(tmp_path):
    from bot.standin.web_api import FakeSlack

    with FakeSlack() as slack:
        slack.fail_methods["auth.test"] = "invalid_auth"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTCALLER_", "SLACK_"))}
        env.update(
            SLACK_BOT_TOKEN="xoxb-0-refused-token",
            SLACK_SIGNING_SECRET="refused-signing-1",
            SLACK_API_URL=slack.api_url,
            NEXTCALLER_CONSUMER_KEY="K1234567",
            NEXTCALLER_CONSUMER_SECRET="s1234567",
            NEXTCALLER_OPS_DATA_DIR=str(tmp_path),
            NEXTCALLER_BASE_URL="http://127.0.0.1:9",
        )
        proc = run_cli("bot", "--http", "--port", "0", env=env, timeout=60)
    assert proc.returncode == 2 and "Slack refused to start the bot" in proc.stderr
    assert "Traceback" not in proc.stderr and "xoxb-0-refused-token" not in proc.stderr


def test_csv_without_a_phone_column_is_refused_before_any_output(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("when,agent\nMon,ann\n")
    code, out, err = cli(capsys, "lookup", "--file", str(src))
    assert code == 2 and out == "" and "no `phone` column" in err
    assert api_env.httpd.request_count == 0


def test_file_from_stdin(api_env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("2125558383\n3125550142\n"))
    code, out, _ = cli(capsys, "lookup", "--file", "-", "--format", "json")
    assert code == 0 and [json.loads(line)["records"] for line in out.splitlines()] == [1, 2]


def test_file_rows_to_an_output_file(api_env, capsys, tmp_path):
    src, dst = tmp_path / "in.txt", tmp_path / "out.csv"
    src.write_text("2125558383\n2025550999\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "-o", str(dst), "-q")
    rows = list(csv.DictReader(dst.open()))
    assert code == 1 and out == "" and [r["status"] for r in rows] == ["found", "not_found"]


def test_cache_info_and_clear_without_a_cache(api_env, capsys):
    code, out, _ = cli(capsys, "cache", "info")
    assert code == 0 and "No persistent cache" in out


@pytest.mark.parametrize("var", ["NEXTCALLER_TIMEOUT"])  # retention settings are the bot's: tests/bot/test_retention.py
def test_a_non_numeric_setting_is_a_usage_error(api_env, capsys, monkeypatch, var):
    monkeypatch.setenv(var, "ninety")
    code, _, err = cli(capsys, "lookup", "2125558383")
    assert code == 2 and "ninety" in err and "Traceback" not in err
    assert api_env.httpd.request_count == 0
