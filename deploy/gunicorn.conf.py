"""gunicorn's configuration for the bot over HTTP: ``gunicorn -c deploy/gunicorn.conf.py 'bot.wsgi:application'``.

Several workers act as one bot on PostgreSQL and Redis (README, "Running for a team").
"""

from __future__ import annotations

import glob
import os
import tempfile

# -- metrics: prometheus-client's multiprocess mode (bot/health.py, nextcaller_ops/metrics.py) -----------
# Each worker writes its metrics to files in this directory and /metrics, whichever worker answers it,
# sums them.  It is set here, in the master, before any worker imports prometheus_client; an operator's
# own PROMETHEUS_MULTIPROC_DIR wins.  One directory per server: two servers sharing one would add up.
metrics_dir = os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), f"nextcaller-ops-metrics-{os.getuid()}")
)


def on_starting(server):
    """A fresh start counts from zero: the files a previous run left would be added to this one's."""
    os.makedirs(metrics_dir, mode=0o700, exist_ok=True)
    for stale in glob.glob(os.path.join(metrics_dir, "*.db")):  # only prometheus-client's own files
        os.remove(stale)


def child_exit(server, worker):
    """A worker gone: its live gauges leave the sums (its counters stay, as Prometheus expects)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# -- end of metrics ------------------------------------------------------------------------------------
