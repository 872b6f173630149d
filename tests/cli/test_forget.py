"""``nextcaller-ops forget``, ``cache clear`` with Redis, and the audit log's numbers at rest (issue 23)."""

from __future__ import annotations

import io
import json

import pytest

from nextcaller_ops.cli.main import main
from tests.core.test_forget import leftovers, sqlite_texts


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def audit_key(monkeypatch):
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_KEY", "a-test-key-for-the-audit-log-hmac")


def test_forget_without_a_terminal_refuses_in_one_line_naming_yes(api_env, audit_key, capsys, monkeypatch):
    assert main(["lookup", "212-555-8383"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = cli(capsys, "forget", "212-555-8383")
    assert code == 2 and "--yes" in err and len(err.strip().splitlines()) <= 2
    code, out, _ = cli(capsys, "audit", "--phone", "2125558383", "--format", "json")
    assert len(json.loads(out)) == 1  # nothing was removed


def test_forget_yes_counts_per_store_and_check_answers_with_the_number_in_hand(api_env, audit_key, capsys, tmp_path):
    for number in ("212-555-8383", "312-555-0142"):
        assert main(["lookup", number]) == 0
    capsys.readouterr()
    assert cli(capsys, "forget", "--check", "2125558383")[0] == 1  # never forgotten yet

    code, out, _ = cli(capsys, "forget", "(212) 555-8383", "--yes")
    assert code == 0 and out.startswith("Forgot 212***8383:")
    assert "  audit log: 1" in out.splitlines()
    assert leftovers(sqlite_texts(tmp_path / "data"), ["demo@nextcaller.com", "Jerry Seinfeld"]) == []

    code, out, _ = cli(capsys, "forget", "--check", "+1 212.555.8383")
    assert code == 0 and "212***8383 was forgotten on" in out and "2125558383" not in out
    assert cli(capsys, "forget", "--check", "312-555-0142")[0] == 1
    code, out, _ = cli(capsys, "audit", "--phone", "3125550142", "--format", "json")
    assert len(json.loads(out)) == 1  # another number's rows are untouched

    code, out, _ = cli(capsys, "forget", "212-555-8383", "--yes")  # idempotent
    assert code == 0 and "0 entries removed" in out


def test_forget_refuses_what_is_not_a_number_or_an_address(capsys):
    code, _, err = cli(capsys, "forget", "12", "--yes")
    assert code == 2 and err.strip()


def test_cache_clear_clears_redis_too_and_says_how_many(api_env, redis_space, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_URL", redis_space.url)
    monkeypatch.setenv("NEXTCALLER_OPS_REDIS_PREFIX", redis_space.prefix)
    for number in ("212-555-8383", "312-555-0142"):
        assert main(["lookup", number]) == 0
    capsys.readouterr()
    assert [k for k in redis_space.names() if ":cache:" in k]
    code, out, _ = cli(capsys, "cache", "clear")
    assert code == 0 and f"Cleared 2 cached lookup(s) from Redis (prefix {redis_space.prefix})." in out
    assert [k for k in redis_space.names() if ":cache:" in k] == []


def test_audit_numbers_hash_keeps_no_number_and_still_finds_its_rows(api_env, audit_key, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_NUMBERS", "hash")
    assert main(["lookup", "212-555-8383"]) == 0
    capsys.readouterr()
    audit_texts = [t for t in sqlite_texts(tmp_path / "data") if t.startswith("audit.sqlite3")]
    assert audit_texts and leftovers(audit_texts, []) == []  # the log holds no number, only its keyed hash
    code, out, _ = cli(capsys, "audit", "--phone", "(212) 555-8383", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1 and rows[0]["phone"].startswith("hmac:")


def test_audit_numbers_masked_cannot_find_one_number_and_says_so(api_env, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_NUMBERS", "masked")
    assert main(["lookup", "212-555-8383"]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, "audit", "--format", "json")
    assert code == 0 and [r["phone"] for r in json.loads(out)] == ["212***8383"]
    code, out, err = cli(capsys, "audit", "--phone", "212-555-8383")
    assert code == 2 and "masked" in err and len(err.strip().splitlines()) <= 2


def test_forget_finds_hashed_audit_rows_by_their_keyed_hash(api_env, audit_key, monkeypatch, capsys):
    monkeypatch.setenv("NEXTCALLER_OPS_AUDIT_NUMBERS", "hash")
    for number in ("212-555-8383", "312-555-0142"):
        assert main(["lookup", number]) == 0
    capsys.readouterr()
    code, out, _ = cli(capsys, "forget", "2125558383", "--yes")
    assert code == 0 and "  audit log: 1" in out.splitlines()
    code, out, _ = cli(capsys, "audit", "--format", "json")
    rows = json.loads(out)
    assert [r["action"] for r in rows] == ["lookup", "forget"]  # the other number's lookup, and the forget
    assert cli(capsys, "audit", "--phone", "312-555-0142", "--format", "json")[1].count('"lookup"') == 1
