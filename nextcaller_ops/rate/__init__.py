"""Rates: the API's pacing and per-user windows, each beside its twin: in this process | Redis.

:mod:`.pacer` (learns ``X-Rate-Limit-Limit``, backs off on 429), :mod:`.bucket` (the token bucket's
arithmetic), :mod:`.redis` (the same bucket in one Lua script, and sliding windows shared by
processes), :mod:`.window` (a per-user sliding window in this process, with a shared one in front).
"""
