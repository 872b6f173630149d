"""Each module registers its listeners on the app: ``register(app, services)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import actions, commands, events, shortcuts, views

if TYPE_CHECKING:
    from slack_bolt import App

    from ..app import Services


def register_listeners(app: App, services: Services) -> None:
    for module in (commands, actions, views, shortcuts, events):
        module.register(app, services)
