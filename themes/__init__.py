"""Themes and TCSS for the console (installed as ``oos_tui.themes``).

Colours live only in the ``*.toml`` theme files; the ``*.tcss`` files use
theme variables (``$sev-error``, ``$state-open``…) and never a literal colour.
Importing this package does not import Textual; :func:`load_themes` does.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_THEME",
    "THEMES_DIR",
    "css_paths",
    "default_variables",
    "load_themes",
    "theme_names",
]

THEMES_DIR = Path(__file__).resolve().parent
DEFAULT_THEME = "oos-dark"
# Global look first, then the arrangement of screens (Harlequin's two layers).
_CSS_FILES = ("base.tcss", "screens.tcss")


def css_paths() -> list[Path]:
    """The TCSS files, as absolute paths (valid in editable and wheel installs).

    ``base.tcss`` and ``screens.tcss`` come first; every other ``*.tcss``
    here (one per screen, e.g. ``queues.tcss``) follows in name order.
    """
    first = [THEMES_DIR / name for name in _CSS_FILES]
    rest = sorted(p for p in THEMES_DIR.glob("*.tcss") if p.name not in _CSS_FILES)
    return first + rest


def theme_names() -> list[str]:
    """Names of the bundled themes, default first."""
    names = sorted(p.stem for p in THEMES_DIR.glob("*.toml"))
    names.sort(key=lambda n: n != DEFAULT_THEME)
    return names


def load_themes() -> list[Any]:
    """Build a Textual ``Theme`` for every ``*.toml`` here."""
    from textual.theme import Theme

    themes = []
    for path in sorted(THEMES_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        themes.append(Theme(**data))
    return themes


def default_variables() -> dict[str, str]:
    """The console's own variables from the default theme.

    Textual parses the TCSS before any theme is registered, and a built-in
    theme (``:theme nord``) knows nothing of ``$sev-error``; these fill the gap.
    """
    data = tomllib.loads((THEMES_DIR / f"{DEFAULT_THEME}.toml").read_text(encoding="utf-8"))
    return dict(data.get("variables", {}))
