"""The notebook's fixtures: an in-process IPython shell with the extension loaded, pointed at the sandbox."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from nextcaller_ops.notebook import NextCaller


@pytest.fixture
def ip(api_env):
    """A real ``InteractiveShell`` (magics, ``%config``, the display machinery) with ``%load_ext nextcaller_ops``."""
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


def magics_of(shell) -> NextCaller:
    return next(m for m in shell.configurables if isinstance(m, NextCaller))


def run_cell(shell, text: str):
    """Run a cell as a person would (``run_cell``, not the magic's function): what it showed and returned."""
    result = shell.run_cell(text, store_history=False)
    return result
