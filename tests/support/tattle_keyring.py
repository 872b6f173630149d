"""A keyring backend that writes down every use: for checking that something never asks the keyring.

Select it in a child process with ``PYTHON_KEYRING_BACKEND=tests.support.tattle_keyring.Keyring``
(``PYTHONPATH`` at the repository) and ``TATTLE_KEYRING_LOG=FILE``; each call appends a line to FILE.
"""

from __future__ import annotations

import os

from keyring.backend import KeyringBackend


class Keyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]  # chosen by name, never by priority

    def _note(self, what: str, service: str, username: str) -> None:
        with open(os.environ["TATTLE_KEYRING_LOG"], "a", encoding="utf-8") as fh:
            fh.write(f"{what} {service} {username} (pid {os.getpid()})\n")

    def get_password(self, service: str, username: str) -> str | None:
        self._note("get", service, username)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._note("set", service, username)

    def delete_password(self, service: str, username: str) -> None:
        self._note("delete", service, username)
