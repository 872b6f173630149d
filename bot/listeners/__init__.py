"""Every listener, registered in one place: ``register_listeners(app)``.

One package per kind of Slack request (commands, actions, views, shortcuts,
events, functions: Workflow Builder steps); each has ``register(app)`` and one small named function per listener.
A listener acks first and reaches the bot's services with
``services_from(context)``.
"""

from __future__ import annotations

from slack_bolt import App

from . import actions, commands, events, functions, shortcuts, views

__all__ = ["register_listeners"]


def register_listeners(app: App) -> None:
    for kind in (commands, actions, views, shortcuts, events, functions):
        kind.register(app)
