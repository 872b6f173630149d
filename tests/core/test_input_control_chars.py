"""Issue 20, item 11 (inputs and text output): control characters never get in, and never get out.

``\\x1b]0;pwned\\x07a@x.com`` (an escape sequence that retitles a terminal, then an
address) used to be accepted as an email.  Every input a person types — v2.1's
email and name-and-address queries, correction values (the sandbox checks with the
same function), profile ids, the CLI's arguments, the magics' words, ``/caller``'s
text — refuses C0 and C1 controls, DEL and the bidirectional controls in one
sentence naming the character, before any request.  Records come from the API, so
the text a terminal shows (cards, "No record" sentences, fraud labels) carries none.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from nextcaller_ops.api.correction_fields import build_correction, validate_correction_value
from nextcaller_ops.api.queries import check_email, name_address_query, split_name
from nextcaller_ops.api.render import html_card, no_record_text, risk_label, spoof_label, text_card
from nextcaller_ops.api.text import control_problem, refuse_control
from nextcaller_ops.cli.main import main
from nextcaller_ops.errors import UsageError
from tests.support.common import SEINFELD_ID

EVIL = "\x1b]0;pwned\x07a@x.com"
RLO = "J\u202eyrreJ"  # shows as "JJerry" reversed: a name that reads as another
TERMINAL_BYTES = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e", "\u2066")

# One of each kind: C0 (ESC, BEL, NUL, tab, newline), DEL, C1 (CSI), the bidi embeddings, overrides, isolates.
CONTROLS = ["\x1b", "\x07", "\x00", "\t", "\n", "\x7f", "\x9b", "\x85", "\u202a", "\u202e", "\u2066", "\u2069"]


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    (line,) = err.strip().splitlines()
    assert "Traceback" not in err and "internal error" not in err
    for char in TERMINAL_BYTES:
        assert char not in line
    return line


# -- the one check ---------------------------------------------------------------------------------


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_kind_is_named_and_refused(char):
    problem = control_problem(f"jerry{char}@example.com")
    assert problem and f"U+{ord(char):04X}" in problem
    with pytest.raises(UsageError, match=f"the email address contains .*U\\+{ord(char):04X}"):
        refuse_control(f"jerry{char}@example.com", "the email address")


@pytest.mark.parametrize("text", ["José Rivera", "jerry@example.com", "渋谷区", "O'Brien-Smith", "שלום", "مرحبا"])
def test_ordinary_text_in_any_script_passes(text):
    assert control_problem(text) is None and refuse_control(text, "x") == text


# -- the core: v2.1 queries and corrections (every surface and the sandbox use these) --------------


def test_the_email_is_refused_in_one_sentence():
    with pytest.raises(UsageError) as caught:
        check_email(EVIL)
    assert str(caught.value).startswith("the email address contains a control character (U+001B ESC)")
    assert "\x1b" not in str(caught.value)


@pytest.mark.parametrize("field", ["first_name", "last_name", "address", "city", "state", "zip_code"])
def test_each_name_and_address_field_is_refused(field):
    query = {"first_name": "Jerry", "last_name": "Seinfeld", "address": "129 West 81st Street", "zip_code": "10024"}
    query[field] = "\x1b[2J" + query.get(field, "New York")
    if field in ("city", "state"):
        query.update(city="New York", state="NY", zip_code="")
        query[field] = "\x1b[2J" + query[field]
    with pytest.raises(UsageError, match=f"{field}: contains a control character"):
        name_address_query(query)


def test_a_tab_inside_a_name_is_refused_not_folded():
    with pytest.raises(UsageError, match="U\\+0009 tab"):
        split_name("Jerry\tSeinfeld")


def test_an_unknown_field_name_is_shown_escaped():
    query = {"first_name": "J", "last_name": "S", "address": "1 Main", "zip_code": "10024", "\x1b]0;x\x07": "y"}
    with pytest.raises(UsageError) as caught:
        name_address_query(query)
    assert "\x1b" not in str(caught.value) and "\\x1b" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("first_name", RLO), ("email", EVIL), ("shipping_address1.line1", "1 Main St\nApt 2"), ("last_name", "S\x9b2J")],
)
def test_correction_values_are_refused(field, value):
    assert validate_correction_value(field, value).startswith("contains a ")
    with pytest.raises(UsageError, match=f"{field}: contains a "):
        build_correction({field: value})


def test_the_client_sends_nothing(client, api_env):
    with pytest.raises(UsageError):
        client.update_profile(SEINFELD_ID, {"first_name": RLO})
    assert api_env.httpd.request_count == 0


@pytest.mark.parametrize("version", ["v2", "v2.1"])
def test_the_sandbox_refuses_the_same_values(api_env, version):
    """The sandbox validates with validate_correction_value: a client that skips the checks gets a 4xx."""
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.config import load_settings
    from nextcaller_ops.credentials import Credentials

    settings = load_settings(api_version=version)
    creds = Credentials(api_env.consumer_key, api_env.consumer_secret, source="explicit", auth=settings.auth)
    with NextCallerClient(creds, settings) as nc:
        url = f"{settings.api_root}/users/{SEINFELD_ID}/"
        answer = nc.transport._session.post(  # past the client's own checks, signed as it signs
            url, params={"format": "json"}, json={"first_name": RLO}, auth=nc.transport.auth, timeout=10
        )
    assert answer.status_code in (400, 422), answer.text
    assert api_env.store.get(SEINFELD_ID)["first_name"] == "Jerry"


# -- the CLI: every path, exit 2, one line, no request ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["lookup", "--email", EVIL],
        ["--verbose", "lookup", f"--email={EVIL}"],
        ["lookup", "--name", "Jerry\x1b[2J Seinfeld", "--address", "129 West 81st Street", "--zip", "10024"],
        ["lookup", "--name", "Jerry Seinfeld", "--address", "129 West\u202e 81st Street", "--zip", "10024"],
        ["lookup", "\x1b]0;x\x072125558383"],
        ["fraud", "212555\x9b8383"],
        ["profile", SEINFELD_ID + "\x1b"],
        ["update", SEINFELD_ID, "--set", f"first_name={RLO}"],
        ["update", SEINFELD_ID, "--set", "email=" + EVIL],
    ],
    ids=["email", "email=", "name", "address-bidi", "phone", "fraud-c1", "profile-id", "update-bidi", "update-email"],
)
def test_the_cli_refuses_every_input_with_exit_2_and_no_request(api_env_v21, capsys, args):
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    line = one_line(err)
    assert "contains a control character" in line or "contains a bidirectional control" in line
    assert api_env_v21.httpd.request_count == 0


def test_the_cli_names_the_argument(api_env_v21, capsys):
    _code, _out, err = cli(capsys, "lookup", "--email", EVIL)
    assert one_line(err) == (
        "error: argument 3 (after --email) contains a control character (U+001B ESC) — type it again without it"
    )


# -- the notebook -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("magic", "line"),
    [
        ("nextcaller", f"--email '{EVIL}'"),
        ("nextcaller", "'\x1b]0;x\x07212-555-8383'"),
        ("nextcaller_update", f"{SEINFELD_ID} first_name={RLO}"),
        ("nextcaller_update", f"{SEINFELD_ID}\x1b email=a@b.co"),
    ],
    ids=["email", "phone", "update-bidi", "profile-id"],
)
def test_the_magics_refuse_in_one_line_without_a_request(api_env_v21, magic, line):
    from IPython.core.error import UsageError as IPythonUsageError
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    try:
        with pytest.raises(IPythonUsageError) as caught:
            shell.run_line_magic(magic, line)
        text = str(caught.value)
        assert "\n" not in text and "contains a " in text
        assert not any(char in text for char in TERMINAL_BYTES)
    finally:
        shell.run_line_magic("unload_ext", "nextcaller_ops")
        InteractiveShell.clear_instance()
    assert api_env_v21.httpd.request_count == 0


def test_a_cell_of_addresses_refuses_the_line(api_env_v21):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    try:
        df = shell.run_cell_magic("nextcaller", "--email", f"demo@nextcaller.com\n{EVIL}\n")
    finally:
        shell.run_line_magic("unload_ext", "nextcaller_ops")
        InteractiveShell.clear_instance()
    assert list(df["status"]) == ["found", "invalid"] and "U+001B ESC" in df["error"].iloc[1]
    assert api_env_v21.httpd.request_count == 1


# -- Slack: /caller ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [EVIL, "212 555 8383\u202e", "watch on\x1b[2J", "\x1b[31m2125558383"])
def test_caller_refuses_in_the_ack_without_a_request(sandbox, tmp_path, text):
    from bot.standin.web_api import FakeSlack
    from tests.bot.test_v21_bot import Bot

    with FakeSlack() as slack:
        bot = Bot(sandbox, slack, tmp_path / "bot", "v2.1")
        try:
            response, _ = bot.command(text)
        finally:
            bot.close()
    body = json.loads(response.body)
    assert body["response_type"] == "ephemeral" and "contains a " in body["text"]
    assert not any(char in body["text"] for char in TERMINAL_BYTES)
    assert sandbox.httpd.request_count == 0


# -- text output: records from the API carry no control character to a terminal ---------------------


def _plant(sandbox, **fields: str) -> None:
    """Put ``fields`` into Seinfeld's record as the API would send them (the sandbox's own checks bypassed)."""
    doc = sandbox.store.get(SEINFELD_ID)
    doc.update(fields)
    conn = sqlite3.connect(sandbox.db)
    with conn:
        conn.execute("UPDATE records SET doc=? WHERE id=?", (json.dumps(doc), SEINFELD_ID))
    conn.close()


HOSTILE = {
    "name": "Jerry\x1b]0;pwned\x07 Seinfeld",
    "first_name": "Jerry\x1b]0;pwned\x07",
    "last_name": "Sein\u202efeld\x9b2J",
    "carrier": "Veri\x1b[2Jzon\x7f",
    "fraud_threat": "low\x1b[8m",
}


def _clean(text: str) -> None:
    for char in TERMINAL_BYTES:
        assert char not in text, f"{char!r} reached the output"


@pytest.mark.parametrize(
    "args",
    [["lookup", "2125558383"], ["lookup", "--email", "demo@nextcaller.com"], ["profile", SEINFELD_ID]],
    ids=["lookup", "by-email", "profile"],
)
def test_a_record_holding_escape_sequences_prints_without_them(api_env_v21, capsys, args):
    _plant(api_env_v21, **HOSTILE)
    code, out, _err = cli(capsys, *args)
    assert code == 0, _err
    _clean(out)
    assert "Jerry\ufffd]0;pwned\ufffd" in out  # what was there is still visible, inert


def test_cards_labels_and_sentences_are_inert():
    from nextcaller_ops.api.models import Profile

    profile = Profile.from_api({"id": SEINFELD_ID, **HOSTILE})
    for text in (text_card(profile), html_card(profile), no_record_text("\x1b]0;x\x07a@b.co")):
        _clean(text)
    _clean(risk_label("high\x1b[2J"))
    _clean(spoof_label("maybe\u202e"))


@pytest.mark.parametrize(
    "args",
    [["lookup", "--email", "demo@nextcaller.com", "--format", "json"], ["profile", SEINFELD_ID, "--format", "json"]],
    ids=["by-email", "profile"],
)
def test_json_output_escapes_them_and_keeps_the_document(api_env_v21, capsys, args):
    """JSON escapes C0 itself; DEL, C1 and the bidi controls are written as \\u escapes too: the same values."""
    _plant(api_env_v21, **HOSTILE)
    code, out, _err = cli(capsys, *args)
    assert code == 0, _err
    _clean(out)
    doc = json.loads(out)
    record = doc["records"][0] if "records" in doc else doc
    assert record["last_name"] == HOSTILE["last_name"] and record["first_name"] == HOSTILE["first_name"]


def test_lookup_json_and_xml_escape_them(api_env, capsys):
    _plant(api_env, **HOSTILE)
    code, out, _err = cli(capsys, "lookup", "2125558383", "--format", "json")
    assert code == 0
    _clean(out)
    assert json.loads(out)["records"][0]["last_name"] == HOSTILE["last_name"]
    code, out, _err = cli(capsys, "lookup", "2125558383", "--format", "xml")
    _clean(out)
    assert code == 0 and "Sein&#x202e;feld&#x9b;2J" in out


def test_lookup_file_rows_show_neither_the_line_nor_the_record_raw(api_env, capsys, tmp_path):
    _plant(api_env, **HOSTILE)
    src = tmp_path / "numbers.txt"
    src.write_text("2125558383\n\x1b]0;pwned\x07 212-555-8383\n")
    code, out, _err = cli(capsys, "lookup", "--file", str(src), "--format", "text", "-q")
    _clean(out)
    assert code == 1 and "Jerry\ufffd]0;pwned\ufffd Seinfeld" in out and "\ufffd]0;pwned\ufffd 212" in out
