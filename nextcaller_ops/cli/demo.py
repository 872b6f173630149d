"""``nextcaller-ops demo``: the whole tour on an embedded sandbox, then exit.

Everything runs against a sandbox on a free local port with its documented
demo credentials; nothing touches the user's keyring, config or the network.

It runs on any install: a step whose extra is missing ([notebook] for IPython,
[slack] for the bot) is skipped, saying which extra would run it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import MissingExtraError, missing_extra

SEINFELD_ID = "97d949a413f4ea8b85e9586e1f2d9a"

CLI = Callable[[list[str]], int]  # cli.main, handed in: the demo runs the CLI the way a person does

# keyring's backend that stores nothing and finds nothing: the demo's processes (the Socket Mode bot
# looks for Slack secrets it was not given) never read or write the user's keyring.
NULL_KEYRING = "keyring.backends.null.Keyring"


def _step(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(3, 66 - len(title)), flush=True)


def _show(cli: CLI, cmd: list[str]) -> int:
    print("$ " + shlex.join(["nextcaller-ops", *cmd]), flush=True)  # pasted into a shell, it runs as shown
    code = cli(cmd)
    print(f"(exit {code})", flush=True)
    return code


@contextmanager
def _isolated_env(sandbox_url: str, key: str, secret: str) -> Iterator[str]:
    home = tempfile.mkdtemp(prefix="nextcaller-demo-")
    saved = dict(os.environ)
    os.environ.update(
        {
            "NEXTCALLER_BASE_URL": sandbox_url,
            "NEXTCALLER_CONSUMER_KEY": key,
            "NEXTCALLER_CONSUMER_SECRET": secret,
            "NEXTCALLER_OPS_CONFIG_DIR": os.path.join(home, "config"),
            "NEXTCALLER_OPS_DATA_DIR": os.path.join(home, "data"),
            "PYTHON_KEYRING_BACKEND": NULL_KEYRING,
        }
    )
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(home, ignore_errors=True)


_IPYTHON_SESSION = r"""
import sys
from IPython.terminal.interactiveshell import TerminalInteractiveShell

shell = TerminalInteractiveShell.instance(colors="nocolor", simple_prompt=True)
cells = [
    "%load_ext nextcaller_ops",
    "%nextcaller 212-555-8383",
    "%nextcaller 999-123",
    "%%nextcaller -o calls\n2125558383\n(312) 555-0142\n2125558383   # again: not fetched twice\n2025550999",
    "calls[['input', 'status', 'duplicate', 'name', 'fraud_threat']]",
]
failed = 0
for n, cell in enumerate(cells, 1):
    print(f"In [{n}]: " + cell.replace("\n", "\n   ...: "), flush=True)
    result = shell.run_cell(cell, store_history=True)
    failed += not result.success and "999-123" not in cell
    print(flush=True)
sys.exit(1 if failed else 0)
"""


def _ipython_step() -> int:
    """A headless IPython session, cell by cell, as an analyst would type it."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", TQDM_DISABLE="1")
    # stderr into stdout: a UsageError shows where the analyst would see it
    proc = subprocess.run(
        [sys.executable, "-u", "-c", _IPYTHON_SESSION],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
    )
    print(proc.stdout.rstrip())
    return proc.returncode


def _v21_step(cli: CLI, username: str, password: str) -> int:
    """The same sandbox, spoken to as API v2.1: the email step 4 corrected, and the household's fraud level."""
    v21 = {
        "NEXTCALLER_API_VERSION": "v2.1",
        "NEXTCALLER_AUTH": "basic",
        "NEXTCALLER_API_USERNAME": username,
        "NEXTCALLER_API_PASSWORD": password,
    }
    saved = {k: os.environ.get(k) for k in v21}
    os.environ.update(v21)
    try:
        print("$ export NEXTCALLER_API_VERSION=v2.1 NEXTCALLER_API_USERNAME=… NEXTCALLER_API_PASSWORD=…", flush=True)
        failures = int(_show(cli, ["lookup", "--email", "jerry@example.com"]) != 0)
        failures += _show(cli, ["fraud", "(312) 555-0142"]) != 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return failures


def _skipped(missing: MissingExtraError) -> None:
    print(f"skipped: {missing}", flush=True)


def run_demo(cli: CLI) -> int:
    from ..sandbox import Sandbox
    from .commands.bot import SLACK_MODULES

    failures = 0
    skipped: list[str] = []  # the extras whose steps did not run
    with Sandbox(records=200) as sandbox, _isolated_env(sandbox.url, sandbox.consumer_key, sandbox.consumer_secret):
        print(f"Embedded sandbox at {sandbox.url} (demo key {sandbox.consumer_key}).")

        _step("1. Look up a caller (CLI)")
        failures += _show(cli, ["lookup", "(212) 555-8383"]) != 0

        _step("2. The API's own JSON, and a number the API has no record of")
        failures += _show(cli, ["lookup", "2125558383", "--format", "json"]) != 0
        failures += _show(cli, ["lookup", "2025550999"]) != 1

        _step("3. Bad input is refused before any request")
        failures += _show(cli, ["lookup", "555-01"]) != 2

        _step("4. Correct the record, then look it up again")
        failures += (
            _show(
                cli,
                ["update", SEINFELD_ID, "--set", "email=jerry@example.com", "--set", "shipping_address1.line2=Apt 5A"],
            )
            != 0
        )
        failures += _show(cli, ["lookup", "2125558383"]) != 0

        _step("5. A batch, in input order, duplicates fetched once")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("2125558383\n(312) 555-0142\nnot a number\n2125558383\n2025550999\n")
        try:
            # An invalid row and a miss: exit 1, the same rule as numbers on the line.
            failures += _show(cli, ["lookup", "--file", fh.name, "--format", "text", "--quiet"]) != 1
        finally:
            os.unlink(fh.name)

        _step("6. In IPython: %nextcaller")
        missing = missing_extra(("IPython", "pandas"), "notebook", "the IPython part")
        if missing:
            _skipped(missing)
            skipped.append(missing.extra)
        else:
            failures += _ipython_step() != 0

        _step("7. In Slack: /caller 2125558383, then a triage channel, through the Bolt pipeline")
        missing = missing_extra(SLACK_MODULES, "slack", "the Slack part")
        if missing:
            _skipped(missing)
            skipped.append(missing.extra)
        else:
            from bot.standin.demo import run_bot_demo

            failures += run_bot_demo(sandbox) != 0
            print("\nThe same bot in Socket Mode (no public URL), as its own process:")
            from bot.standin.demo_socket import run_socket_demo

            failures += run_socket_demo() != 0

        _step("8. API v2.1 with HTTP Basic auth: look up by email, and a fraud check")
        failures += _v21_step(cli, sandbox.api_username, sandbox.api_password) != 0

    print()
    if failures:
        print(f"demo: {failures} step(s) did not go as expected", file=sys.stderr)
        return 1
    if skipped:
        extras = ",".join(skipped)
        print(
            f"demo: all steps done but {len(skipped)} skipped; "
            f"pip install 'nextcaller-ops[{extras}]' for the whole tour."
        )
        return 0
    print("demo: all steps done.")
    return 0
