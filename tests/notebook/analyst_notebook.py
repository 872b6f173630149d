"""An analyst's notebook that uses every magic: built, run in a real kernel, exported to HTML.

Shared by ``test_exported_notebook.py`` (which asserts on what a reader sees)
and ``docs/screenshots.py`` (``make screenshots``).  The kernel reads the API's
address and credentials from its environment, as a person's would; the cells
hold no secret (``NB_WRONG_SECRET`` / ``NB_GOOD_SECRET`` are read from the
environment by name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from nextcaller_ops.sandbox import HOUSEHOLD_PHONE, synthetic_phone

BATCH = [
    "2125558383",
    "(312) 555-0142   # the Rivera household: two people",
    "212-555-8383",
    "555-01",
    "2025550999",
    "not a number",
    *(synthetic_phone(i) for i in range(8)),
]
TICKETS = {
    "agent": ["ana", "bo", "cy", "di", "ed", "flo"],
    "phone": ["(212) 555-8383", HOUSEHOLD_PHONE, synthetic_phone(20), "2125558383", "n/a", synthetic_phone(21)],
    "ticket": [4411, 4412, 4415, 4420, 4421, 4424],
}


def _cells(seinfeld_id: str, other_id: str) -> list[tuple[str, str, str]]:
    """(name, kind, source) in reading order."""
    many = "\n".join(synthetic_phone(i) for i in range(30, 90))
    stopped = "\n".join(synthetic_phone(i) for i in range(100, 140))
    tickets = (
        "import pandas as pd\n\n"
        "tickets = pd.DataFrame(\n"
        f"    {{'agent': {TICKETS['agent']!r},\n"
        f"     'phone': {TICKETS['phone']!r}}},\n"
        f"    index=pd.Index({TICKETS['ticket']!r}, name='ticket'),\n"
        ")"
    )
    return [
        ("title", "md", "# Who called? — the week's support calls\nLookups against the Next Caller sandbox."),
        ("load", "code", "%load_ext nextcaller_ops"),
        ("card", "code", "%nextcaller 212-555-8383"),
        ("household", "code", f"%nextcaller {HOUSEHOLD_PHONE}"),
        ("json", "code", "%nextcaller 2125558383 --format json"),
        ("bad_number", "code", "%nextcaller 000-000-0000"),
        ("batch_md", "md", "## A batch: one row per line, in order"),
        ("batch", "code", "%%nextcaller -o calls --to calls.csv\n" + "\n".join(BATCH)),
        ("batch_peek", "code", "calls[['input', 'status', 'records', 'max_fraud_threat', 'name', 'member']]"),
        ("per_record", "code", f"%%nextcaller --rows record\n{HOUSEHOLD_PHONE}\n2125558383"),
        ("enrich_md", "md", "## Enrich the tickets in place"),
        ("tickets", "code", tickets),
        (
            "enrich",
            "code",
            "%nextcaller_enrich tickets --column phone --fields name,carrier,fraud_threat,max_fraud_threat",
        ),
        (
            "enrich_fn",
            "code",
            "import nextcaller_ops\nnextcaller_ops.enrich(tickets[['agent', 'phone']], 'phone', fields='name,email')",
        ),
        ("text_bar_setting", "code", "%config NextCaller.progress = 'text'"),
        ("many", "code", "%%nextcaller -o more\n" + many),
        ("fix_md", "md", "## Corrections"),
        ("dry_run", "code", f"%nextcaller_update {seinfeld_id} email=jerry@example.com --dry-run"),
        ("same", "code", f"%nextcaller_update {seinfeld_id} phone1=(212)555-8383 shipping_address1.state=ny"),
        ("update", "code", f"%nextcaller_update {seinfeld_id} email=jerry@example.com"),
        ("update_unknown", "code", f"%nextcaller_update {other_id} first_name=Pat"),
        ("bad_setting", "code", "%config NextCaller.concurrency = 0"),
        ("keys_md", "md", "## A wrong secret, then the right one"),
        ("wrong_secret", "code", "import os\nos.environ['NEXTCALLER_CONSUMER_SECRET'] = os.environ['NB_WRONG_SECRET']"),
        ("stopped", "code", "%%nextcaller -o stopped\n" + stopped),
        (
            "fixed",
            "code",
            "os.environ['NEXTCALLER_CONSUMER_SECRET'] = os.environ['NB_GOOD_SECRET']\n"
            f"%nextcaller {HOUSEHOLD_PHONE} --refresh",
        ),
        ("status", "code", "%nextcaller_status"),
        ("paced_md", "md", "## A budgeted, paced batch from a Python list, tried dry first"),
        ("week", "code", "week = " + repr([synthetic_phone(i) for i in range(150, 170)] + [HOUSEHOLD_PHONE])),
        ("dry_batch", "code", "%%nextcaller --dry-run\n{week}"),
        (
            "paced",
            "code",
            "os.environ['NEXTCALLER_OPS_MAX_RPS'] = '20'  # this kernel keeps to 20 requests/s\n%nextcaller_status",
        ),
        ("paced_batch", "code", "%%nextcaller -o week_calls --max-requests 15\n{week}"),
    ]


def build(seinfeld_id: str, other_id: str) -> Any:
    cells = []
    for name, kind, source in _cells(seinfeld_id, other_id):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cells.append(make(source, metadata={"nc": name}))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb: Any, cwd: Path) -> Any:
    """Run every cell in one fresh kernel (errors shown as outputs, as a person would see them)."""
    NotebookClient(
        nb, timeout=60, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return nb


def cell(nb: Any, name: str) -> Any:
    return next(c for c in nb.cells if c.metadata.get("nc") == name)


def to_html(nb: Any, theme: str = "light") -> str:
    """The notebook as JupyterLab's HTML export, in its ``light`` or ``dark`` theme."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(theme=theme).from_notebook_node(nb)
    return body


def only(nb: Any, *names: str) -> Any:
    """A notebook of the named (already executed) cells, e.g. for one screenshot."""
    part = nbformat.v4.new_notebook(cells=[cell(nb, n) for n in names])
    part.metadata = {k: v for k, v in nb.metadata.items() if k != "widgets"}  # closed bars leave no state to show
    return part
