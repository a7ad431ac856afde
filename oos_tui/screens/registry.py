"""The console's screens in number-key order (no Textual: the CLI and help share it)."""

from __future__ import annotations

__all__ = ["DEFAULT_SCREEN", "SCREENS", "SCREEN_MODES", "screen_title"]

# (mode name, title). The position is the number key: 1 = Overview … 8 = Audit.
SCREENS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("events", "Events"),
    ("queues", "Queues"),
    ("breakers", "Breakers"),
    ("resources", "Resources"),
    ("jobs", "Jobs"),
    ("backups", "Backups"),
    ("audit", "Audit"),
)
SCREEN_MODES: tuple[str, ...] = tuple(mode for mode, _title in SCREENS)
DEFAULT_SCREEN = "overview"
"""The screen the console opens on unless ``--screen`` names another."""


def screen_title(mode: str) -> str:
    """The title of a mode, or the mode itself."""
    return dict(SCREENS).get(mode, mode.title())
