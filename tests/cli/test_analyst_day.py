"""The CLI on an analyst's CSV exports (issue 24): the caller's columns kept, any delimiter, households
kept whole, resume, a request budget, dry runs, and the smaller defects."""

from __future__ import annotations

import csv
import io
import json

import pytest

from nextcaller_ops.cli.main import main
from nextcaller_ops.sandbox import HOUSEHOLD_PHONE


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- defect 5: the caller's columns, --column, the delimiter ------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_file_keeps_the_callers_columns_in_any_delimiter(api_env, capsys, tmp_path, delimiter):
    src = tmp_path / "calls.csv"
    rows = [["ticket_id", "phone", "note"], ["T-1", "(212) 555-8383", "called twice"], ["T-2", "3125550142", "x"]]
    src.write_text("".join(delimiter.join(r) + "\n" for r in rows))
    code, out, err = cli(capsys, "lookup", "--file", str(src))
    got = list(csv.DictReader(io.StringIO(out)))
    assert code == 0, err
    header = next(csv.reader(io.StringIO(out)))
    assert header[:3] == ["ticket_id", "input_phone", "note"] and header[3:5] == ["input", "phone"]
    assert [(r["ticket_id"], r["note"], r["input_phone"], r["phone"], r["status"]) for r in got] == [
        ("T-1", "called twice", "(212) 555-8383", "2125558383", "found"),
        ("T-2", "x", "3125550142", "3125550142", "found"),
    ]
    assert "2 rows: 2 found" in err


def test_file_column_names_the_numbers_column(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("ticket_id;Caller Tel\nT-9;212-555-8383\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "--column", "caller tel", "--format", "json")
    row = json.loads(out)
    assert code == 0 and row["ticket_id"] == "T-9" and row["Caller Tel"] == "212-555-8383"
    assert row["name"] == "Jerry Seinfeld"


def test_file_column_missing_is_refused_naming_the_columns(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("ticket_id,tel\nT-9,212-555-8383\n")
    code, out, err = cli(capsys, "lookup", "--file", str(src), "--column", "phone_no")
    assert code == 2 and out == "" and "'ticket_id', 'tel'" in err and "--column" in err
    assert api_env.httpd.request_count == 0


def test_progress_total_does_not_count_the_header(api_env, capsys, tmp_path, monkeypatch):
    from nextcaller_ops.batch.progress import TerminalProgress

    totals = []
    monkeypatch.setattr(TerminalProgress, "start", lambda self, total: totals.append(total))
    src = tmp_path / "calls.csv"
    src.write_text("phone,note\n2125558383,a\n3125550142,b\n")
    cli(capsys, "lookup", "--file", str(src), "-o", str(tmp_path / "out.csv"))
    src.write_text("2125558383\n3125550142\n")
    cli(capsys, "lookup", "--file", str(src), "-o", str(tmp_path / "out.csv"))
    assert totals == [2, 2]


# -- defect 6: households ---------------------------------------------------------------------------


def test_rows_record_keeps_every_person_of_a_household(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text(f"ticket_id,phone\nT-1,{HOUSEHOLD_PHONE}\nT-2,2125558383\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "--rows", "record")
    got = [(r["ticket_id"], r["record"], r["name"], r["fraud_threat"]) for r in csv.DictReader(io.StringIO(out))]
    assert code == 0
    assert got == [
        ("T-1", "1", "Alex Rivera", "medium"),
        ("T-1", "2", "Sam Rivera", "high"),
        ("T-2", "1", "Jerry Seinfeld", "low"),
    ]


def test_per_number_row_carries_the_record_count_and_the_highest_threat(api_env, capsys, tmp_path):
    code, out, _ = cli(capsys, "lookup", HOUSEHOLD_PHONE, "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(out))
    assert code == 0 and row["records"] == "2" and row["max_fraud_threat"] == "high"
    code, out, _ = cli(capsys, "lookup", HOUSEHOLD_PHONE, "--format", "csv", "--rows", "record")
    assert [r["name"] for r in csv.DictReader(io.StringIO(out))] == ["Alex Rivera", "Sam Rivera"]
    src = tmp_path / "n.txt"
    src.write_text(f"{HOUSEHOLD_PHONE}\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "--format", "text", "-q")
    assert "2 records" in out and "highest fraud threat: high" in out
