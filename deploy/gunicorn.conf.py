"""gunicorn's configuration for the bot over HTTP: ``gunicorn -c deploy/gunicorn.conf.py``.

Every value can be overridden from the environment (the systemd unit's and the compose file's
environment file sets them); each is commented with why it is what it is.  Several workers act
as one bot only with the shared state: NEXTCALLER_OPS_DATABASE_URL and NEXTCALLER_OPS_REDIS_URL
(README, "Running for a team").  With the embedded SQLite stores run ONE worker.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger

# The WSGI app: bot/wsgi.py builds the app and its services in each worker, after the fork.
wsgi_app = "bot.wsgi:application"

# Loopback: TLS ends at the reverse proxy in front (README, "TLS"); set GUNICORN_BIND=0.0.0.0:3000
# only when the proxy runs on another host (or in another container).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:3000")

# Workers: 2 is enough for a team (each worker has a wide thread pool for Slack's requests and
# its own outbox thread); more only with PostgreSQL and Redis set.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# Slack gives 3 s for an ack and the listeners ack first; 30 s is for a slow worker start (a
# PostgreSQL migration at start, auth.test) before the arbiter gives up on it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM a worker finishes the requests it holds; the outbox's deliveries in flight finish
# or stay queued for the next start (bot/wsgi.py closes the services at exit).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # the proxy in front reuses connections

# No --preload: each worker builds its own app after the fork (threads and pools do not survive one).
preload_app = False

# -- metrics (PROMETHEUS_MULTIPROC_DIR) ---------------------------------------------------------
# HOOK for the metrics set-up (nextcaller_ops/metrics.py): with several workers each process writes
# its metrics into PROMETHEUS_MULTIPROC_DIR and /metrics sums them.  The directory must exist and be
# empty when the master starts (stale files from an earlier run would be summed in), and a dead
# worker's live gauges must be marked dead.  The metrics' multiprocess details belong to
# nextcaller_ops/metrics.py; this file only prepares the directory and calls its hooks when present.
# Unset, one is chosen here (an operator's own value wins), in the master before any worker imports
# prometheus_client: without it each worker would answer /metrics with its own counts only.  One
# directory per server: two servers sharing one would add up.
_multiproc_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"nextcaller-ops-metrics-{os.getuid()}")
)


def on_starting(server: Any) -> None:
    """In the master, before any worker: an empty metrics directory."""
    if _multiproc_dir:
        os.makedirs(_multiproc_dir, mode=0o700, exist_ok=True)
        for name in os.listdir(_multiproc_dir):
            if name.endswith(".db"):
                os.unlink(os.path.join(_multiproc_dir, name))


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: its live gauges no longer count (prometheus-client's multiprocess mode)."""
    if _multiproc_dir:
        try:
            from prometheus_client import multiprocess
        except ImportError:  # prometheus-client not installed: no metrics to mark
            return
        multiprocess.mark_process_dead(worker.pid)


# -- logs ---------------------------------------------------------------------------------------
# One format on stderr (journald, or the container's log) for the bot's lines and gunicorn's own
# (worker boots, timeouts): nextcaller_ops.logs, whose NEXTCALLER_OPS_LOG_FORMAT=json makes each
# line one JSON object.  The workers set it up again as they build the app (bot/wsgi.py).  The
# access log is off: a Slack request's path says nothing, and its query could.
errorlog = "-"
accesslog = None
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


class BotLogger(GunicornLogger):
    """gunicorn's logger, its error log written by the bot's one handler (set up again on each reload)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from nextcaller_ops.logs import configure_logging

        handler = configure_logging("bot", libraries=logging.WARNING)
        for own in [h for h in self.error_log.handlers if getattr(h, "_gunicorn", False)]:
            self.error_log.removeHandler(own)  # gunicorn's plain stderr handler: ours writes instead
        self.error_log.addHandler(handler)


logger_class = BotLogger

# SIGHUP: gunicorn reloads its configuration and starts new workers, which read the environment
# file, the keyring and the secrets anew; the old workers finish their requests first.  That is
# how the HTTP bot rotates its secrets (README, "Rotating secrets").
