"""What the sandbox writes to its log."""

from __future__ import annotations

import logging

import requests


def test_sandbox_logs_no_phone_numbers(sandbox, caplog):
    from requests_oauthlib import OAuth1

    with caplog.at_level(logging.DEBUG, logger="nextcaller_ops.sandbox"):
        requests.get(
            sandbox.url + "/v2/records/",
            params={"phone": "2125558383", "format": "json"},
            auth=OAuth1(sandbox.consumer_key, sandbox.consumer_secret),
            timeout=10,
        )
    # The sandbox's own records (the client's urllib3 lines are the client's business).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("nextcaller_ops.sandbox"))
    assert "/v2/records/" in text and "2125558383" not in text
