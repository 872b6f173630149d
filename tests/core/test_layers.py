"""The house: rooms that show the layers, contracts that hold them, no cycle, old names still importing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path

import grimp
import pytest

from tests.support.common import ROOT

MAX_MODULES_PER_FOLDER = 16  # "~15" besides __init__.py: a folder past this wants a sub-package of its own


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm over every module of both packages (imports inside functions included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_import_graph_has_no_cycle():
    graph = grimp.build_graph("nextcaller_ops", "bot")
    assert _strongly_connected(graph) == []


def test_no_folder_holds_more_than_about_fifteen_modules():
    crowded = {
        str(folder.relative_to(ROOT)): n
        for base in ("nextcaller_ops", "bot")
        for folder in [ROOT / base, *(p for p in (ROOT / base).rglob("*") if p.is_dir() and p.name != "__pycache__")]
        if (n := len([m for m in folder.glob("*.py") if m.name != "__init__.py"])) > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}


def test_the_stand_in_contract_names_every_production_module_of_the_bot():
    (fence,) = [c for c in _contracts() if c.get("forbidden_modules") == ["bot.standin"]]
    listed = set(fence["source_modules"])
    production = {
        f"bot.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "bot").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    } - {"bot.standin"}
    assert production - listed == set(), "add the new bot module to the contract's source_modules"


@pytest.mark.skipif(
    shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None, reason="no import-linter"
)
def test_the_contracts_catch_an_import_from_a_lower_layer_to_a_higher_one(tmp_path):
    """The contracts are not decoration: a copy of the tree where api/ imports the CLI fails `lint-imports`."""
    for name in ("nextcaller_ops", "bot"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = str(Path(sys.executable).parent / "lint-imports")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)}
    clean = subprocess.run([lint], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stdout[-2000:]

    phone = tmp_path / "nextcaller_ops" / "api" / "phone.py"
    phone.write_text(phone.read_text() + "\nfrom nextcaller_ops.cli import main as _upward  # noqa\n")
    broken = subprocess.run([lint], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert broken.returncode != 0
    assert "nextcaller_ops.api.phone -> nextcaller_ops.cli" in broken.stdout


def test_the_old_module_names_still_import_with_a_warning_naming_the_new_place():
    for name in [n for n in list(sys.modules) if n == "nextcaller_ops.phone"]:
        del sys.modules[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from nextcaller_ops.phone import parse as old_parse  # type: ignore[import-not-found]
    from nextcaller_ops.api.phone import parse

    assert old_parse is parse
    assert any("nextcaller_ops.api.phone" in str(w.message) for w in caught if w.category is DeprecationWarning)
    import nextcaller_ops.api.phone as moved

    assert moved.__spec__ is not None and moved.__spec__.name == "nextcaller_ops.api.phone"


def test_a_package_that_took_an_old_module_s_name_forwards_its_names():
    import nextcaller_ops.cache
    from nextcaller_ops.cache.memory import LookupCache

    with pytest.warns(DeprecationWarning, match="nextcaller_ops.cache.memory"):
        assert nextcaller_ops.cache.LookupCache is LookupCache
    with pytest.raises(AttributeError):
        _ = nextcaller_ops.cache.no_such_name


def test_the_public_face_is_re_exported_lazily():
    code = (
        "import sys, nextcaller_ops; before = 'nextcaller_ops.client.client' in sys.modules;"
        "from nextcaller_ops import NextCallerClient, InvalidPhoneError, enrich;"
        "from nextcaller_ops.client.client import NextCallerClient as C;"
        "print(before, NextCallerClient is C, InvalidPhoneError.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["False", "True", "nextcaller_ops.errors"]
