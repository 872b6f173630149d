"""The CLI against careless input (issue 11, items 6-10): one exit-code rule, files in other
encodings, XML for several numbers, text that is not Unicode, and -vv with no signature."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.sandbox import synthetic_phone
from tests.support.common import ROOT, SEINFELD_ID, run_cli


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- item 6: --file follows the rule of numbers on the line ------------------------------------------


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["2125558383", synthetic_phone(3)], 0),  # every row found
        (["2125558383", "2025550999"], 1),  # a row with no record
        (["2125558383", "nope"], 1),  # a row that is no phone number
        ([], 0),  # nothing asked, nothing missed
    ],
    ids=["all-found", "not-found", "invalid", "empty"],
)
def test_file_exit_code_is_0_only_when_every_row_was_found(api_env, capsys, tmp_path, lines, code):
    src = tmp_path / "numbers.txt"
    src.write_text("".join(f"{line}\n" for line in lines))
    got, _out, _err = cli(capsys, "lookup", "--file", str(src), "-q")
    assert got == code


def test_the_rule_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["lookup", "--help"])
    out = capsys.readouterr().out
    assert "exit codes" in out and "0  every number was found" in out and "--file alike" in out


# -- item 7: a file in another encoding -------------------------------------------------------------


def _cp1252_file(tmp_path):
    src = tmp_path / "calls.csv"
    src.write_bytes("phone,name\n2125558383,Jerry\n3125550142,José Rivera\n".encode("cp1252"))
    return src


def test_a_file_not_in_utf8_is_refused_up_front_naming_the_line(api_env, capsys, tmp_path):
    code, out, err = cli(capsys, "lookup", "--file", str(_cp1252_file(tmp_path)))
    assert code == 2 and out == ""  # not one row printed before the refusal
    (line,) = err.strip().splitlines()
    assert "line 3 is not UTF-8 text (byte 0xe9)" in line and "--encoding" in line
    assert "internal error" not in err and api_env.httpd.request_count == 0


def test_encoding_reads_it(api_env, capsys, tmp_path):
    code, out, _ = cli(capsys, "lookup", "--file", str(_cp1252_file(tmp_path)), "--encoding", "cp1252", "-q")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["status"] for r in rows] == ["found", "found"]


def test_random_bytes_are_refused_in_one_line(api_env, capsys, tmp_path):
    src = tmp_path / "noise.bin"
    src.write_bytes(bytes(range(256)) * 4)  # the first \n ends line 1; 0x80 is on line 2
    code, out, err = cli(capsys, "lookup", "--file", str(src))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "line 2 is not UTF-8 text (byte 0x80)" in err


def test_an_unknown_encoding_is_refused(api_env, capsys, tmp_path):
    src = tmp_path / "n.txt"
    src.write_text("2125558383\n")
    code, _, err = cli(capsys, "lookup", "--file", str(src), "--encoding", "klingon")
    assert code == 2 and "unknown encoding 'klingon'" in err and api_env.httpd.request_count == 0


def test_stdin_not_in_utf8_stops_with_the_line(api_env):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "nextcaller_ops", "lookup", "--file", "-", "-q"],
        input="2125558383\nJosé\n".encode("latin-1"),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert b"stdin line 2 is not UTF-8 text (byte 0xe9)" in proc.stderr and b"Traceback" not in proc.stderr


def test_a_csv_field_over_the_csv_limit_is_one_line_not_an_internal_error(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text('phone,notes\n2125558383,"' + "x" * 200_000 + '"\n')
    code, _, err = cli(capsys, "lookup", "--file", str(src), "-q")
    assert code == 2 and "line 2" in err and "internal error" not in err


def test_an_overlong_line_is_an_invalid_row_and_the_next_line_is_read(api_env, capsys, tmp_path):
    src = tmp_path / "n.txt"
    src.write_text("2" * 3_000_000 + "\n2125558383\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "-q", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [r["status"] for r in rows] == ["invalid", "found"]
    assert len(rows[0]["input"]) <= 1 << 20  # held up to a bound, not whole


def test_an_unwritable_output_is_a_usage_error(api_env, capsys, tmp_path):
    src = tmp_path / "n.txt"
    src.write_text("2125558383\n")
    code, _, err = cli(capsys, "lookup", "--file", str(src), "-o", str(tmp_path / "no" / "such" / "dir.csv"))
    assert code == 2 and "cannot write" in err and "internal error" not in err


# -- item 8: --format xml with several numbers --------------------------------------------------------


def test_xml_for_several_numbers_is_refused_before_any_request(api_env, capsys):
    code, out, err = cli(capsys, "lookup", "2125558383", "3125550142", "--format", "xml")
    assert code == 2 and out == "" and "--format xml takes one number" in err
    assert api_env.httpd.request_count == 0


# -- item 9: an argument that is not valid text ----------------------------------------------------------


def test_a_latin1_argument_is_refused_before_any_request(api_env):
    proc = run_cli("update", SEINFELD_ID, "--set", "first_name=Jos\udce9")  # the byte 0xe9 on the command line
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "first_name=Jos\\xe9" in line and "not valid UTF-8" in line and "LANG=C.UTF-8" in line
    assert api_env.httpd.request_count == 0


def test_a_lone_surrogate_in_a_correction_is_refused_by_the_core(api_env, capsys):
    # The same text reaching the core some other way (a script calling main, JSON) is refused there too.
    from nextcaller_ops.api.correction_fields import build_correction
    from nextcaller_ops.errors import UsageError

    with pytest.raises(UsageError, match="first_name: is not valid Unicode text"):
        build_correction({"first_name": "\ud800"})
    with pytest.raises(UsageError, match=r"shipping_address1\.city: contains a control character"):
        build_correction({"shipping_address1": {"city": "New\x00York"}})


# -- item 10: -vv shows no signature ----------------------------------------------------------------------

# HMAC-SHA1 in base64 is 27 characters and "="; percent-encoded, its "+", "/" and "=" become %2B %2F %3D.
_SIGNATURE = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{27}=|[A-Za-z0-9%]{20,}%3D")


def test_very_verbose_shows_no_signature_and_no_signed_base_string(api_env):
    proc = run_cli("-vv", "lookup", "2125558383")
    assert proc.returncode == 0
    assert "DEBUG" in proc.stderr  # it is verbose
    assert not _SIGNATURE.search(proc.stderr), _SIGNATURE.search(proc.stderr)
    assert "GET&http" not in proc.stderr and "2125558383" not in proc.stderr


# -- the same classes elsewhere in the CLI: a piped secret and config.toml in another encoding ----------


def test_a_piped_secret_not_in_utf8_is_refused_and_nothing_is_stored(sandbox, isolated_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXTCALLER_CONSUMER")}
    login = ["login", "--consumer-key", sandbox.consumer_key, "--base-url", sandbox.url, "--secret-stdin"]
    proc = subprocess.run(
        [sys.executable, "-m", "nextcaller_ops", *login],
        input=b"secr\xe9t-typed-in-latin-1\n",
        capture_output=True,
        env=dict(env, PYTHONPATH=str(ROOT)),
        timeout=60,
    )
    assert proc.returncode == 2
    assert b"not valid UTF-8 text" in proc.stderr and b"internal error" not in proc.stderr
    assert sandbox.httpd.request_count == 0


def test_a_config_file_not_in_utf8_is_one_line(isolated_env, capsys):
    config = isolated_env / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_bytes(b'[profiles.default]\nbase_url = "http://caf\xe9"\n')
    code, _, err = cli(capsys, "status")
    assert code == 2 and "config.toml" in err and "internal error" not in err
