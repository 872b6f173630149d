"""Verifying a caller (issue 26, part 3): the one comparison every surface uses (nextcaller_ops/api/verify.py)."""

from __future__ import annotations

import json

import pytest

from nextcaller_ops.api.models import Profile
from nextcaller_ops.api.record_parts import Address
from nextcaller_ops.api.verify import MATCH, NO_MATCH, NOT_ON_RECORD, PARTIAL, InvalidClaim, fold, verify

JOSE = Profile(
    first_name="José",
    last_name="Álvarez-Núñez",
    name="José María Álvarez-Núñez",
    email="Jose.Alvarez@Example.COM",
    addresses=(Address(line1="129 West 81st Street", city="New York", state="NY", zip_code="10024"),),
)


def verdicts(**claims) -> dict[str, str]:
    return verify([JOSE], **claims).as_dict()


def test_case_accents_and_punctuation_do_not_count():
    assert fold("  JOSÉ  Álvarez-Núñez ") == "jose alvarez nunez"
    assert verdicts(name="jose alvarez nunez") == {"name": MATCH, "overall": MATCH}
    assert verdicts(name="ALVAREZ NUNEZ, Jose")["name"] == MATCH  # any order
    assert verdicts(name="José María Álvarez-Núñez")["name"] == MATCH  # the middle name on record is allowed


def test_no_nickname_is_guessed_a_name_is_partial_or_no_match():
    assert verdicts(name="Pepe Alvarez Nunez")["name"] == PARTIAL
    assert verdicts(name="Jose")["name"] == PARTIAL
    assert verdicts(name="Kramer")["name"] == NO_MATCH


def test_zip_is_five_digits_zip_plus_four_read_as_its_first_five():
    assert verdicts(zip_code="10024")["zip"] == MATCH
    assert verdicts(zip_code="10024-1234")["zip"] == MATCH
    assert verdicts(zip_code="10025")["zip"] == NO_MATCH
    for bad in ("1002", "100245", "ABCDE", "10024-12"):
        with pytest.raises(InvalidClaim, match="zip: a ZIP is 5 digits"):
            verify([JOSE], zip_code=bad)


def test_email_is_case_folded_and_partial_on_the_local_part_only():
    assert verdicts(email="JOSE.ALVAREZ@example.com")["email"] == MATCH
    assert verdicts(email="jose.alvarez@gmail.com")["email"] == PARTIAL
    assert verdicts(email="someone@example.com")["email"] == NO_MATCH


def test_street_number_and_words_usps_abbreviations_are_the_same_word():
    assert verdicts(street="129 W 81st St.")["street"] == MATCH
    assert verdicts(street="131 West 81st Street")["street"] == PARTIAL  # the street, not the number
    assert verdicts(street="129 Columbus Ave")["street"] == PARTIAL  # the number only
    assert verdicts(street="1 Main Street")["street"] == NO_MATCH


def test_overall_full_match_only_when_every_field_given_matched():
    everything = verify(
        [JOSE], name="Jose Alvarez Nunez", zip_code="10024", email="jose.alvarez@example.com", street="129 West 81st St"
    )
    assert everything.full_match and [f.field for f in everything.fields] == ["name", "zip", "email", "street"]
    assert verify([JOSE], name="Jose Alvarez Nunez", zip_code="90210").overall == PARTIAL
    assert verify([JOSE], name="Kramer", zip_code="90210").overall == NO_MATCH
    assert verify([JOSE], name="Jose Alvarez Nunez", street="").as_dict() == {"name": MATCH, "overall": MATCH}
    with pytest.raises(ValueError, match="nothing to verify"):
        verify([JOSE], name="  ")


def test_best_over_several_records_and_fields_the_record_lacks():
    other = Profile(first_name="Ana", last_name="Ruiz", addresses=(Address(zip_code="90210"),))
    assert verify([other, JOSE], zip_code="10024").overall == MATCH
    bare = Profile(first_name="Ana", last_name="Ruiz")
    result = verify([bare], name="Ana Ruiz", email="ana@example.com")
    assert result.as_dict() == {"name": MATCH, "email": NOT_ON_RECORD, "overall": PARTIAL}
    assert verify([], name="Ana Ruiz").overall == NO_MATCH  # no record at all


def test_the_result_holds_only_verdicts_never_what_was_typed():
    result = verify([JOSE], name="Secret Name", zip_code="10024", email="typed@example.org", street="77 Typed Road")
    text = repr(result) + repr(result.as_dict())
    for typed in ("Secret", "typed@example.org", "77", "Typed", "10024"):
        assert typed not in text


# -- the CLI: nextcaller-ops verify (the same comparison, over the sandbox) ----------------------------


def cli(capsys, *args):
    from nextcaller_ops.cli.main import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verify_exit_0_on_a_full_match_1_otherwise(api_env, sandbox, capsys):
    code, out, _ = cli(
        capsys, "verify", "(212) 555-8383", "--name", "JERRY seinfeld", "--zip", "10024",
        "--email", "Demo@NextCaller.com", "--street", "129 W 81st St",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == [
        "Verifying (212) 555-8383",
        "  name    match",
        "  zip     match",
        "  email   match",
        "  street  match",
        "  overall match",
    ]
    code, out, _ = cli(capsys, "verify", "2125558383", "--name", "Jerry Kramer", "--zip", "10025", "--format", "json")
    assert code == 1
    assert json.loads(out) == {
        "phone": "2125558383",
        "found": True,
        "name": "partial",
        "zip": "no match",
        "overall": "partial",
    }
    assert "Kramer" not in out and "10025" not in out  # nothing typed is printed back


def test_cli_verify_refuses_a_malformed_zip_before_any_request(api_env, sandbox, capsys):
    before = sandbox.httpd.request_count
    code, _, err = cli(capsys, "verify", "2125558383", "--name", "Jerry Seinfeld", "--zip", "1002")
    assert code == 2 and "--zip" in err and "5 digits" in err
    assert sandbox.httpd.request_count == before


# -- the notebook: %nextcaller_verify (the same comparison) ---------------------------------------------


@pytest.fixture
def ip(api_env):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


def test_notebook_verify_magic_gives_the_verdicts(ip, sandbox):
    v = ip.run_line_magic(
        "nextcaller_verify", "(212) 555-8383 --name 'Jerry Seinfeld' --zip 10024 --street '129 W 81st St'"
    )
    assert v.full_match and v.as_dict() == {"name": MATCH, "zip": MATCH, "street": MATCH, "overall": MATCH}
    assert repr(v).splitlines()[-1] == "  overall match"
    v = ip.run_line_magic("nextcaller_verify", "2125558383 --name 'Elaine Benes' --zip 10024")
    assert not v.full_match and v.as_dict() == {"name": NO_MATCH, "zip": MATCH, "overall": PARTIAL}
    assert "Elaine" not in repr(v) + v._repr_html_()


def test_notebook_verify_refuses_a_malformed_zip_in_one_line_before_any_request(ip, sandbox, capsys):
    from IPython.core.error import UsageError

    before = sandbox.httpd.request_count
    with pytest.raises(UsageError, match=r"%nextcaller_verify: --zip: a ZIP is 5 digits"):
        ip.run_line_magic("nextcaller_verify", "2125558383 --name Jerry --zip 1002")
    assert sandbox.httpd.request_count == before
