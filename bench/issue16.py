"""The six targets of issue #16, one line each, from the figures of this run (``make bench`` ends with them)."""

from __future__ import annotations

from typing import Any


def _mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def _pacing(r: dict[str, Any]) -> str:
    p, b = r["paced"], r["baseline_unpaced"]
    ok = p["ratio_to_ideal"] <= 1.15 and p["refused_share"] <= 0.02
    return (
        f"1 pacing [{_mark(ok)}]: {r['numbers']} numbers, concurrency 32, limit {r['rate_limit_per_s']}/s: "
        f"{p['seconds']} s = {p['ratio_to_ideal']}x the ideal {r['ideal_s']:g} s (<= 1.15), "
        f"refused {_pct(p['refused_share'])} ({p['refused']} of {p['requests']}; <= 2 %) | without pacing: "
        f"{b['seconds']} s = {b['ratio_to_ideal']}x, refused {_pct(b['refused_share'])} "
        f"({b['refused']} of {b['requests']}), rows {b['rows']}"
    )


def _shared(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"2 pacing shared [NOT RUN]: {r['skipped']}"
    s, b = r["with_redis"], r["baseline_each_process_alone"]
    ok = s["ratio_to_ideal"] <= 1.2 and s["refused_share"] <= 0.02
    return (
        f"2 pacing shared [{_mark(ok)}]: 2 CLI processes, one key, one Redis: {s['seconds']} s = "
        f"{s['ratio_to_ideal']}x the ideal {r['ideal_s']:g} s (<= 1.2), refused {_pct(s['refused_share'])} "
        f"({s['refused']} of {s['requests']}; <= 2 %) | each process alone (no Redis): {b['seconds']} s = "
        f"{b['ratio_to_ideal']}x, refused {_pct(b['refused_share'])} ({b['refused']} of {b['requests']})"
    )


def _no_limit(r: dict[str, Any]) -> str:
    return (
        f"3 no limit, no cost [{_mark(r['throughput_kept'] >= 0.95)}]: throughput kept {r['throughput_kept']} "
        f"(>= 0.95): {r['numbers']} numbers in {r['median_s_pacer_in']} s with the pacer, "
        f"{r['median_s_pacer_out']} s without (medians of {r['rounds']})"
    )


def _sustained(r: dict[str, Any]) -> str:
    growth_ok = r["rss_growth_mb"] <= 30 and r["rss_mb_minute_1"] is not None
    ok = r["errors"] == 0 and r["ack_p99_s"] <= 0.3 and r["card_p99_s"] <= 1.0 and growth_ok
    return (
        f"4 sustained bot [{_mark(ok)}]: {r['sent']} /caller at {r['per_second']}/s, API {r['api_latency_ms']} ms: "
        f"ack p50 {r['ack_p50_s']} s / p99 {r['ack_p99_s']} s (<= 0.3), card p50 {r['card_p50_s']} s / "
        f"p99 {r['card_p99_s']} s (<= 1), errors {r['errors']} (0), RSS {r['rss_mb_minute_1']} MB at minute 1 -> "
        f"{r['rss_mb_end']} MB at the end ({r['rss_growth_mb']:+} MB; <= 30)"
    )


def _triage(r: dict[str, Any]) -> str:
    ok = r["api_lookups"] <= r["distinct_numbers"] and r["slowest_message_to_reply_s"] <= 3.0
    return (
        f"5 triage burst [{_mark(ok)}]: {r['messages']} messages, {r['distinct_numbers']} numbers, delivered in "
        f"{r['burst_delivered_in_s']} s: {r['api_lookups']} API requests (<= {r['distinct_numbers']}), slowest "
        f"message to reply {r['slowest_message_to_reply_s']} s (<= 3), {r['replies_posted']} replies"
    )


def _cpu(r: dict[str, Any]) -> str:
    return (
        f"6 CPU per lookup [{_mark(r['ratio'] <= 1.5)}]: {r['client_cpu_ms_per_lookup']} ms per cached-miss lookup "
        f"against {r['bare_requests_oauthlib_cpu_ms_per_call']} ms per bare requests-oauthlib call = "
        f"{r['ratio']}x (<= 1.5)"
    )


_LINES = (
    ("pacing", _pacing),
    ("pacing_shared", _shared),
    ("no_limit", _no_limit),
    ("sustained", _sustained),
    ("triage", _triage),
    ("cpu", _cpu),
)


def summary(results: dict[str, Any]) -> list[str]:
    """A line per target of issue #16 measured in ``results`` (the ones not run are left out)."""
    return [line(results[name]) for name, line in _LINES if name in results]
