"""The Slack front end of nextcaller-ops, on slack-bolt.

``bot.app.build_app(settings, client)`` builds the Bolt ``App``; nothing
happens at import time.  ``nextcaller-ops bot`` runs it (Socket Mode or HTTP).
"""
