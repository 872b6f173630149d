"""Socket Mode: the bot's WebSocket to Slack, without a public URL.

:mod:`.connection` (slack_sdk's client logic and Bolt's dispatch over ``websockets``; each envelope id
handled once, across processes), :mod:`.envelope` (what an envelope carries and its acknowledgement),
:mod:`.reconnect` (exponential back-off with jitter across connections that die young).
"""
