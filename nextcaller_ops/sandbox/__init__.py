"""A local Next Caller v2-compatible server: the embedded default for the demo and tests.

>>> from nextcaller_ops.sandbox import Sandbox
>>> with Sandbox(records=10) as sb:          # doctest: +SKIP
...     print(sb.url, sb.consumer_key)
"""

from .seed import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, HOUSEHOLD_PHONE, SEINFELD, STATUS_CONSUMERS, synthetic_phone
from .server import Sandbox

__all__ = [
    "Sandbox",
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "HOUSEHOLD_PHONE",
    "STATUS_CONSUMERS",
    "SEINFELD",
    "synthetic_phone",
]
