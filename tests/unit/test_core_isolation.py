"""The core imports no Textual (STYLE §1): checked in a fresh interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import oos_tui

# Everything except the faces that exist to show a screen.
_FACES = (
    "oos_tui.app",
    "oos_tui.feeds",
    "oos_tui.keys",
    "oos_tui.palette",
    "oos_tui.screens",
    "oos_tui.widgets",
    "oos_tui.themes",
)


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(oos_tui.__path__, "oos_tui."):
        if not info.name.startswith(_FACES) and info.name != "oos_tui.__main__":
            names.append(info.name)
    return names


def test_core_modules_exist() -> None:
    mods = _core_modules()
    for expected in ("oos_tui.models", "oos_tui.config", "oos_tui.cli"):
        assert expected in mods


def test_core_and_cli_import_without_textual() -> None:
    mods = _core_modules()
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        "from oos_tui.cli import build_parser\n"
        "build_parser()\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"core pulled in Textual: {out.stdout.strip()}"
