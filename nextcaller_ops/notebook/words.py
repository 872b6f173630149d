"""What a person in a notebook does about each kind of error, and the one-line error IPython shows."""

from __future__ import annotations

from IPython.core.error import UsageError

from ..batch.run import BatchSummary
from ..errors import Action, NextCallerError, describe

ADVICE: dict[Action, str] = {
    Action.LOGIN: "run %nextcaller_login, or set NEXTCALLER_CONSUMER_KEY and NEXTCALLER_CONSUMER_SECRET "
    "in the kernel's environment",
    Action.NEW_KEY: "run %nextcaller_login with a new key",
    Action.LOGIN_BASIC: "run %nextcaller_login, or set NEXTCALLER_API_USERNAME and NEXTCALLER_API_PASSWORD "
    "in the kernel's environment",
    Action.USE_V21: "set NEXTCALLER_API_VERSION=v2.1 for the kernel, or use a profile with api_version = "
    '"v2.1" (%config NextCaller.profile)',
    Action.WAIT: "wait a moment, or lower --concurrency (%config NextCaller.concurrency)",
    Action.CHECK_URL: "check NEXTCALLER_BASE_URL (%nextcaller_status shows it) and try again",
    Action.CHECK_NETWORK: "check the network and NEXTCALLER_BASE_URL (%nextcaller_status shows it)",
    Action.RAISE_TIMEOUT: "try again, or raise the timeout in config.toml",
    Action.USE_HTTPS: "use an https:// URL (NEXTCALLER_BASE_URL in the kernel's environment, base_url in "
    "config.toml or %nextcaller_login --base-url), or set NEXTCALLER_ALLOW_INSECURE_HTTP=1 in the kernel's "
    "environment for a lab proxy you trust",
}


def error_line(exc: NextCallerError) -> str:
    return describe(exc, ADVICE)


def usage_error(exc: NextCallerError) -> UsageError:
    """IPython's ``UsageError``: shown as one line in a kernel, never a traceback."""
    return UsageError(error_line(exc))


def stop_line(summary: BatchSummary) -> str:
    """The one line after a batch that did not finish: why, and what was kept ("" when it finished)."""
    kept = f"{summary.done} of {summary.lines} row{'s' if summary.lines != 1 else ''}"
    if summary.stopped_by is not None:
        return (
            f"Stopped at line {summary.stopped_at}: {error_line(summary.stopped_by)}. "
            f"Every further line would fail the same way; {kept} kept."
        )
    if summary.interrupted:
        return f"Interrupted: returning the {summary.done} of {summary.lines} rows done so far."
    return ""
