"""The batch engine parses each distinct line once (issue 25: parsing is the costliest part of a row here).

A question whose ``parse_input`` counts its calls; the rows are what they were (every line
its own row, refusals included), only the parsing is not repeated.
"""

from __future__ import annotations

from collections import Counter

from nextcaller_ops.api.phone import parse
from nextcaller_ops.batch.run import Question, parsed_once, run_batch

from .test_batch_engine import PublicOnlyClient


def test_each_distinct_line_is_parsed_once_and_every_line_keeps_its_row():
    client = PublicOnlyClient()
    calls: Counter[str] = Counter()

    def counting_parse(raw: str):
        calls[raw] += 1
        return parse(raw)

    question = Question(lambda phone, refresh: client.lookup(phone, refresh=refresh), parse_input=counting_parse)
    lines = ["2125558383", "not a number", "212-555-8383", "2125558383", "not a number", "2125558383"]
    items, _ = run_batch(client, lines, question=question)
    assert [i.status for i in items] == ["found", "invalid", "found", "found", "invalid", "found"]
    assert [i.duplicate for i in items] == [False, False, True, True, False, True]
    assert all("letters" in str(items[k].error) for k in (1, 4))  # the refusal said again, in the row
    assert calls == Counter({"2125558383": 1, "not a number": 1, "212-555-8383": 1})
    assert client.asked.count("2125558383") == 1


def test_the_memory_is_bounded():
    calls: Counter[str] = Counter()

    def counting_parse(raw: str) -> str:
        calls[raw] += 1
        return raw

    once = parsed_once(counting_parse, size=2)
    for raw in ["a", "b", "a", "c", "a"]:  # "c" fills it: forgotten, "a" parsed again
        assert once(raw) == raw
    assert calls == Counter({"a": 2, "b": 1, "c": 1})
