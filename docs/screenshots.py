"""``make screenshots``: the analyst notebook, run in a real kernel, exported to HTML, photographed by headless Chromium.

Runs the same notebook as ``tests/notebook/test_exported_notebook.py`` against
an embedded sandbox, exports chosen cells to HTML with nbconvert, opens each
page in Debian's ``chromium`` and saves PNGs next to this file (trimmed with
Pillow).  Not part of ``make test``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SHOTS = {  # picture: (cells, theme)
    "notebook-card.png": (("card",), "light"),
    "notebook-household.png": (("household",), "light"),
    "notebook-batch.png": (("batch", "batch_peek"), "light"),
    "notebook-enrich.png": (("tickets", "enrich"), "light"),
    "notebook-paced-dry-run.png": (("dry_batch", "paced", "paced_batch"), "light"),
    "notebook-household-dark.png": (("household",), "dark"),
    # each dark picture twins a light one: a table shown under the batch that made it, not under a later one
    "notebook-batch-dark.png": (("batch", "batch_peek"), "dark"),
    "notebook-paced-dry-run-dark.png": (("dry_batch", "paced", "paced_batch"), "dark"),
}
_BACKGROUND = {"light": (255, 255, 255), "dark": (17, 17, 17)}  # JupyterLab Dark's --jp-layout-color0 is #111
_PAGE_CSS = "<style>body{{background:{};margin:0 8px}}.jp-Notebook{{padding:8px 0}}</style>"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("screenshots: no chromium here — `apt-get install -y chromium` (Debian) and try again")


def page(nb, theme: str = "light") -> str:
    """The exported HTML with its CDN scripts left out (the page renders without them; nothing is fetched)."""
    from tests.notebook import analyst_notebook as analyst

    html = analyst.to_html(nb, theme)
    html = re.sub(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', "", html)
    background = "#{:02x}{:02x}{:02x}".format(*_BACKGROUND[theme])
    return html.replace("</head>", _PAGE_CSS.format(background) + "</head>", 1)


def shoot(
    browser: str, html_path: Path, png: Path, width: int = 1100, height: int = 1400, theme: str = "light"
) -> None:
    profile = tempfile.mkdtemp(prefix="nc-chromium-")
    try:
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                # nothing leaves the machine: no QUIC, no background fetches, updates or sync
                "--disable-quic",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--window-size={width},{height}",
                f"--screenshot={png}",
                html_path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    trim(png, background=_BACKGROUND[theme])


def trim(png: Path, margin: int = 12, background: tuple[int, int, int] = (255, 255, 255)) -> None:
    """Cut the blank page below and beside the cells."""
    from PIL import Image, ImageChops

    with Image.open(png) as image:
        rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, background)).getbbox()
    if box:
        _left, top, right, bottom = box
        rgb = rgb.crop((0, max(0, top - margin), min(rgb.width, right + margin), min(rgb.height, bottom + margin)))
    rgb.save(png, optimize=True)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from nextcaller_ops.sandbox import Sandbox, synthetic_phone
    from tests.notebook import analyst_notebook as analyst
    from tests.support.common import SEINFELD_ID

    browser = chromium()
    work = Path(tempfile.mkdtemp(prefix="nc-screenshots-"))
    secret = "screenshots-only-" + os.urandom(8).hex()
    try:
        with Sandbox(records=300) as sandbox:
            sandbox.store.add_consumer("SHOTKEY00000000001", secret)
            os.environ.update(
                NEXTCALLER_BASE_URL=sandbox.url,
                NEXTCALLER_CONSUMER_KEY="SHOTKEY00000000001",
                NEXTCALLER_CONSUMER_SECRET=secret,
                NB_GOOD_SECRET=secret,
                NB_WRONG_SECRET="not-the-secret",
                NEXTCALLER_OPS_CONFIG_DIR=str(work / "config"),
                NEXTCALLER_OPS_DATA_DIR=str(work / "data"),
                PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
            )
            other = sandbox.store.find_by_phone(synthetic_phone(250))[0]["id"]
            nb = analyst.execute(analyst.build(SEINFELD_ID, other), work)
        for name, (cells, theme) in SHOTS.items():
            html_path = work / (name + ".html")
            html_path.write_text(page(analyst.only(nb, *cells), theme), encoding="utf-8")
            shoot(browser, html_path, DOCS / name, theme=theme)
            print(f"wrote docs/{name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
