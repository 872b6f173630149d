"""What the client tells its audit hook: ``audit(action, phone, outcome, detail="")`` after every call.

The words are the client's: ``found N`` / ``no record`` / ``risk …`` / ``sent``,
and on an error ``error: NAME`` as a :class:`Failure`, a string that also
carries the error, so a surface that words failures its own way (the bot logs
``error`` with the error's name and API code) need not parse the sentence.
Who asked and where is not the client's to know: the hook reads it from its
surface (:func:`nextcaller_ops.audit.asking`).
"""

from __future__ import annotations

from collections.abc import Callable

from .. import errors

__all__ = ["AuditHook", "Failure", "no_audit"]

AuditHook = Callable[..., None]  # audit(action, phone, outcome, detail="")


class Failure(str):
    """``error: NAME``, as an outcome, with the error itself in :attr:`error`."""

    error: errors.NextCallerError

    def __new__(cls, error: errors.NextCallerError) -> Failure:
        failure = super().__new__(cls, f"error: {type(error).__name__}")
        failure.error = error
        return failure


def no_audit(action: str, phone: str | None, outcome: str, detail: str = "") -> None:
    """The hook of a client nobody audits."""
