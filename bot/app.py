"""build_app(settings, client) -> a Bolt App with every listener registered.

Nothing happens at import time.  The app only wires things together: a global
middleware puts the bot's :class:`~bot.services.Services` in every request's
context (``context["services"]``), two more acknowledge a Slack retry once
(:func:`bot.gate.dedupe_events`) and refuse whoever the policy refuses
(:func:`bot.gate.policy_gate`, the one gate), and
:func:`bot.listeners.register_listeners` registers the listeners, which read the
services from the context.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse

from nextcaller_ops import metrics
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.logs import start_log_context

from .gate import dedupe_events, policy_gate
from .listeners import register_listeners
from .services import Services, build_services
from .settings import BotSettings

__all__ = ["build_app"]


def _provide(services: Services) -> Callable[..., None]:
    def provide_services(context: BoltContext, next_: Callable[[], None]) -> None:
        context["services"] = services
        next_()

    return provide_services


def log_context(context: BoltContext, body: dict[str, Any], next_: Callable[[], None]) -> None:
    """Every log line a request causes carries its Slack user and channel ids and a request id.

    Bolt runs the listener after the middlewares have returned, so the context is set, not
    reset: it lives on this thread until its next request, and the listener's thread copies it.
    """
    request_id = body.get("event_id") or body.get("trigger_id") or uuid.uuid4().hex[:16]
    start_log_context(user_id=context.user_id, channel_id=context.channel_id, request_id=str(request_id))
    next_()


class _ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context (the request's log context follows the
    listener onto its thread; a plain pool runs each task in the worker thread's own context)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def build_app(settings: BotSettings, client: NextCallerClient, *, services: Services | None = None) -> App:
    """The Bolt app.  Listeners ack first and do the slow work on a wide thread pool,
    so a burst of commands against a slow API never queues behind itself.

    Without ``services`` they are built (and opened) here and live as long as the
    process; whoever needs them afterwards (to start the outbox's worker, to close
    the stores) builds them with :func:`bot.services.build_services` and passes them in.
    """
    from nextcaller_ops.redact import install

    install()  # Bolt logs a refused request's body at INFO: mask numbers, drop secrets, process-wide
    services = services or build_services(settings, client)
    executor = _ContextExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt-listener")
    app = App(
        signing_secret=settings.signing_secret or None,
        client=services.web,
        token_verification_enabled=settings.token_verification,
        process_before_response=False,
        listener_executor=executor,
        logger=logging.getLogger("bot.bolt"),
    )
    app.use(log_context)  # first: the lines the other middlewares write carry the request's ids too
    app.use(_provide(services))
    app.use(dedupe_events)  # a Slack retry is acked and handled once, before anything is audited
    app.use(policy_gate(executor))  # one gate for every request: refused ones go no further
    register_listeners(app)
    _time_acks(app)
    return app


def _kind(body: object) -> str:
    """What Slack sent, as a metric label: a fixed word (never a person's id or text)."""
    if not isinstance(body, dict):
        return "other"
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    return kind if kind in _KINDS else "other"


_KINDS = frozenset(
    {"block_actions", "view_submission", "view_closed", "shortcut", "message_action", "block_suggestion"}
)


def _time_acks(app: App) -> None:
    """Time each request from Bolt's receipt to its acknowledgement (``nextcaller_ops_slack_ack_seconds``).

    Listeners run with ``process_before_response=False``: :meth:`App.dispatch` returns as soon as the
    listener acked (the rest runs on the executor), over HTTP and Socket Mode alike, so timing it is
    timing the ack.
    """
    dispatch = app.dispatch

    def timed_dispatch(req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        try:
            return dispatch(req)
        finally:
            metrics.SLACK_ACK.labels(kind=_kind(req.body)).observe(time.perf_counter() - started)

    app.dispatch = timed_dispatch  # type: ignore[method-assign]
