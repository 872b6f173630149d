"""Importing the client stays cheap (issue 25): the heavy modules load when first used, not on import.

Not a timing test: each import runs in a fresh interpreter and the test reads which
modules it loaded (``sys.modules``), which does not depend on how busy the machine is.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Loaded on first use only: phone parsing (phonenumbers and its metadata), the XML answer
# (defusedxml), the config file (tomllib), the keyring and the platform's folders, and every
# extra (pandas, IPython, Slack, Redis, PostgreSQL).
HEAVY = (
    "phonenumbers",
    "defusedxml",
    "xml.etree.ElementTree",
    "tomllib",
    "tomli",
    "keyring",
    "platformdirs",
    "pandas",
    "IPython",
    "slack_bolt",
    "slack_sdk",
    "redis",
    "psycopg",
)


def loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; import json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


@pytest.mark.parametrize("module", ["nextcaller_ops.client", "nextcaller_ops.client.client"])
def test_importing_the_client_loads_none_of_the_heavy_modules(module):
    loaded = loaded_by(f"import {module}")
    assert module in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


def test_the_heavy_modules_still_come_when_used():
    loaded = loaded_by(
        "import nextcaller_ops.client.client; from nextcaller_ops.api.phone import parse; parse('212-555-8383');"
        " from nextcaller_ops.api.xmldoc import parse_xml_document;"
        " parse_xml_document('<response><records></records></response>')"
    )
    assert {"phonenumbers", "defusedxml"} <= loaded
