"""The CLI on an analyst's CSV exports (issue 24): the caller's columns kept, any delimiter, households
kept whole, resume, a request budget, dry runs, and the smaller defects."""

from __future__ import annotations

import contextlib
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


# -- budget: --max-requests ------------------------------------------------------------------------------


def test_max_requests_skips_the_rows_past_the_budget_and_exits_3(api_env, capsys, tmp_path):
    from nextcaller_ops.sandbox import synthetic_phone

    src = tmp_path / "calls.csv"
    numbers = [synthetic_phone(i) for i in range(8)]
    src.write_text("ticket_id,phone\n" + "".join(f"T-{i},{n}\n" for i, n in enumerate([*numbers, numbers[0]])))
    code, out, err = cli(capsys, "lookup", "--file", str(src), "--max-requests", "3", "--concurrency", "4")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 3 and api_env.httpd.request_count == 3
    assert [r["status"] for r in rows].count("found") == 4  # three asked, and the repeat of the first
    assert [r["status"] for r in rows].count("skipped") == 5 and rows[-1]["status"] == "found"
    assert "budget of 3 requests" in rows[4]["error"]
    assert "5 skipped (over the budget of 3 requests)" in err and "incomplete" in err


def test_max_requests_on_numbers_as_csv(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "2125558383", HOUSEHOLD_PHONE, "--format", "csv", "--max-requests", "1")
    assert code == 3 and [r["status"] for r in csv.DictReader(io.StringIO(out))] == ["found", "skipped"]
    assert api_env.httpd.request_count == 1


# -- --dry-run ---------------------------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_says_what_a_run_would_ask(api_env, capsys, tmp_path):
    src = tmp_path / "calls.csv"
    src.write_text("phone;note\n2125558383;a\n212-555-8383;b\nnope;c\n3125550142;d\n")
    code, out, _ = cli(capsys, "lookup", "--file", str(src), "--dry-run")
    assert code == 0 and api_env.httpd.request_count == 0
    assert "4 rows (1 invalid), 2 distinct, 0 of them in the cache — a real run would make 2 requests" in out
    code, out, _ = cli(capsys, "lookup", "2125558383", "(212) 555-8383", "--dry-run")
    assert code == 0 and "2 rows, 1 distinct" in out and "1 request" in out
    assert api_env.httpd.request_count == 0


# -- --resume: a run killed halfway goes on without asking again -------------------------------------------


class _Gate:
    """The sandbox answers the first ``answer`` lookups, holds the rest; after the kill they are dropped unanswered.

    Every answered lookup's number is noted (``numbers``): what the API was asked, over both runs.
    """

    def __init__(self, sandbox, monkeypatch, answer: int):
        import threading

        self.answer = answer
        self.arrived = 0
        self.numbers: list[str] = []
        self.release = threading.Event()
        self.dropped = False
        self.waiting = 0  # requests held right now (a dropped one counts until its handler has given up)
        self.lock = threading.Lock()
        note, record = sandbox.httpd.note_received, sandbox.httpd.record

        def gated(method: str) -> None:
            note(method)
            with self.lock:
                self.arrived += 1
                held = self.arrived > self.answer
                self.waiting += held
            if held:
                try:
                    self.release.wait(120)
                    if self.dropped:
                        raise ConnectionAbortedError("the client is gone")  # never answered, never counted
                finally:
                    with self.lock:
                        self.waiting -= 1

        def noted(method, path, query, nonce, **extra):
            from urllib.parse import parse_qs

            self.numbers.extend(parse_qs(query).get("phone", []))
            record(method, path, query, nonce, **extra)

        monkeypatch.setattr(sandbox.httpd, "note_received", gated)
        monkeypatch.setattr(sandbox.httpd, "record", noted)

    def open(self) -> None:
        self.answer = 10**9
        self.release.set()


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_resume_after_a_run_killed_halfway_asks_each_number_once(api_env, tmp_path, monkeypatch, how):
    import os
    import signal
    import subprocess
    import sys

    from nextcaller_ops.sandbox import synthetic_phone
    from tests.support.common import PATIENCE, ROOT, wait_until

    numbers = [synthetic_phone(i) for i in range(20)]
    src, out = tmp_path / "calls.csv", tmp_path / "out.csv"
    src.write_text("ticket_id;phone\n" + "".join(f"T-{i};{n}\n" for i, n in enumerate(numbers)))
    gate = _Gate(api_env, monkeypatch, answer=7)
    # A slow answer on a busy machine must not be timed out and asked again: that would be a retry, not resume
    env = dict(os.environ, PYTHONPATH=str(ROOT), NEXTCALLER_TIMEOUT=str(int(PATIENCE)))
    command = [sys.executable, "-m", "nextcaller_ops", "lookup", "--file", str(src), "-o", str(out), "--resume"]
    # One at a time: with more, an answer that came before the row ahead of it was written is lost with the
    # process (asked again on resume) — only rows written are kept
    # SIGINT at its default in the child: a suite started in the background (nohup … &) hands its children
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler
    first = subprocess.Popen(
        [*command, "--concurrency", "1"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:

        def rows_written() -> int:
            return max(0, len(out.read_text().splitlines()) - 1) if out.exists() else 0

        wait_until(lambda: rows_written() >= 7 and gate.arrived > 7, what="7 rows written, the 8th held")
        first.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGINT)
        if how == "SIGINT":
            # Let the interrupt land while the 8th request is still held (the run then waits for it)
            with contextlib.suppress(subprocess.TimeoutExpired):
                first.wait(3)
        gate.dropped = True
        gate.release.set()  # held requests are dropped unanswered: the client gives up on them
        first.wait(PATIENCE)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == (-signal.SIGKILL if how == "SIGKILL" else 130), first.stderr.read()
    # the dropped requests' handlers must have given up before the gate opens, or a late one answers after all
    wait_until(lambda: gate.waiting == 0, what="the held requests dropped")
    assert sorted(gate.numbers) == sorted(numbers[:7])
    gate.dropped = False
    gate.open()
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PATIENCE)
    assert second.returncode == 0, second.stderr
    assert "7 rows from the earlier run, not asked again" in second.stderr
    assert sorted(gate.numbers) == sorted(numbers)  # each number asked once over both runs
    rows = list(csv.DictReader(out.open()))
    assert [r["ticket_id"] for r in rows] == [f"T-{i}" for i in range(20)]
    assert all(r["status"] == "found" for r in rows)


def test_resume_refuses_an_output_from_another_input(api_env, capsys, tmp_path):
    src, out = tmp_path / "calls.txt", tmp_path / "out.csv"
    src.write_text("2125558383\n")
    assert cli(capsys, "lookup", "--file", str(src), "-o", str(out), "--resume")[0] == 0
    src.write_text("3125550142\n")
    code, _, err = cli(capsys, "lookup", "--file", str(src), "-o", str(out), "--resume")
    assert code == 2 and "another input" in err and api_env.httpd.request_count == 1


def test_resume_after_a_budget_asks_only_the_skipped_rows(api_env, capsys, tmp_path):
    from nextcaller_ops.sandbox import synthetic_phone

    src, out = tmp_path / "calls.txt", tmp_path / "out.csv"
    src.write_text("".join(f"{synthetic_phone(i)}\n" for i in range(6)))
    code, _, _ = cli(capsys, "lookup", "--file", str(src), "-o", str(out), "--resume", "--max-requests", "2")
    assert code == 3 and api_env.httpd.request_count == 2
    code, _, err = cli(capsys, "lookup", "--file", str(src), "-o", str(out), "--resume", "--concurrency", "1")
    assert code == 0 and api_env.httpd.request_count == 6 and "2 rows from the earlier run" in err
    assert [r["status"] for r in csv.DictReader(out.open())] == ["found"] * 6


# -- defect 7: the smaller ones -------------------------------------------------------------------------


def test_the_users_own_invalid_input_is_echoed_as_typed(api_env, capsys):
    code, _, err = cli(capsys, "lookup", "2.12556E+09")
    assert code == 2 and "'2.12556E+09'" in err and "***" not in err and "scientific notation" in err


def test_json_lines_say_which_number_each_line_answers(api_env, capsys):
    code, out, _ = cli(capsys, "lookup", "2125558383", "2025550999", "--format", "json")
    docs = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and [d["phone"] for d in docs] == ["2125558383", "2025550999"] and docs[1]["records"] == []


def test_update_dry_run_sends_nothing_and_unchanged_values_are_not_sent(api_env, capsys):
    from tests.support.common import SEINFELD_ID

    code, out, _ = cli(capsys, "update", SEINFELD_ID, "--set", "email=new@example.com", "--dry-run")
    assert code == 0 and "Dry run — nothing sent" in out and "new@example.com" in out
    assert not [r for r in api_env.httpd.signed_requests if r["method"] == "POST"]


def test_update_does_not_resend_what_the_record_has(api_env_v21, capsys):
    from tests.support.common import SEINFELD_ID

    code, out, _ = cli(capsys, "update", SEINFELD_ID, "--set", "first_name=Jerry", "--set", "email=new@example.com")
    posts = [r for r in api_env_v21.httpd.signed_requests if r["method"] == "POST"]
    assert code == 0 and "Unchanged (the record already has these values): first_name" in out
    assert len(posts) == 1 and "'new@example.com'" in out


def test_a_bad_correction_value_names_the_value_not_every_field(api_env, capsys):
    from tests.support.common import SEINFELD_ID

    code, _, err = cli(capsys, "update", SEINFELD_ID, "--set", "shipping_address1.zip_code=ABCDE")
    assert code == 2 and "5-digit" in err and "fields you can set" not in err
    code, _, err = cli(capsys, "update", SEINFELD_ID, "--set", "shoe_size=9")
    assert code == 2 and "fields you can set" in err


def test_an_unknown_profile_id_is_said_once(api_env, capsys):
    code, _, err = cli(capsys, "update", "0" * 30, "--set", "email=a@b.co")
    assert code == 1 and err.count("no profile has") == 1, err


def test_the_demo_prints_commands_a_shell_can_run(capsys, monkeypatch):
    import shlex

    from nextcaller_ops.cli import demo

    demo._show(lambda argv: 0, ["lookup", "(212) 555-8383"])
    line = capsys.readouterr().out.splitlines()[0]
    assert line == "$ nextcaller-ops lookup '(212) 555-8383'"
    assert shlex.split(line[2:]) == ["nextcaller-ops", "lookup", "(212) 555-8383"]
