"""Slack's side, played locally for the demo and the tests — never imported by the bot's production modules.

:mod:`.web_api` (the Web API and response_urls), :mod:`.payloads` (what Slack sends the bot, signed),
:mod:`.socket_server` and :mod:`.socket_frames` (Socket Mode: apps.connections.open, the WebSocket
server, envelopes and acks), :mod:`.demo` and :mod:`.demo_socket` (the bot's part of the tour).
Shipped because ``nextcaller-ops demo`` uses it.
"""
