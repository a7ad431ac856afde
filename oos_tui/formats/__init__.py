"""Parsers and writers, one module per log format of CONTRACT §2."""

from __future__ import annotations

from oos_tui.formats.ai import AI
from oos_tui.formats.applog import APP
from oos_tui.formats.base import LogFormat
from oos_tui.formats.pipe import PIPE
from oos_tui.formats.pylog import PYLOG

__all__ = ["FORMATS", "LogFormat", "get_format"]

FORMATS: dict[str, LogFormat] = {fmt.name: fmt for fmt in (PIPE, AI, APP, PYLOG)}
"""Every line format by name: ``pipe``, ``ai``, ``app`` and ``pylog``."""


def get_format(name: str) -> LogFormat:
    """The format registered as ``name``.

    Raises:
        KeyError: no format has that name; the message lists those that do.
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown log format {name!r}; known: {', '.join(FORMATS)}") from None
