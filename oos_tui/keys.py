"""Binding ids: every key of the console has one, and ``[keys]`` remaps by id.

The ids are collected from the classes themselves, so a new binding is
remappable (and shown in help) the moment it is declared; an id in the
config that no binding has is a one-line configuration error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode

from oos_tui.config import ConfigError

__all__ = ["all_bindings", "validate_keymap"]


def _subclasses(cls: type) -> Iterable[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def all_bindings() -> dict[str, Binding]:
    """Every binding with an id declared by a console class (app, screens, widgets)."""
    found: dict[str, Binding] = {}
    for cls in {DOMNode, *_subclasses(DOMNode)}:
        if not cls.__module__.startswith("oos_tui"):
            continue
        for item in cls.__dict__.get("BINDINGS", ()):
            if isinstance(item, Binding) and item.id:
                found.setdefault(item.id, item)
    return found


def validate_keymap(keymap: Mapping[str, str], source: str = "oos-tui.toml") -> dict[str, str]:
    """Check every id exists and every key string is non-empty.

    Raises:
        ConfigError: naming the first bad entry.
    """
    known = all_bindings()
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = sorted(k for k in known if k.split(".")[0] == binding_id.split(".")[0])
            hint = f" (known in that group: {', '.join(close)})" if close else ""
            raise ConfigError(f"{source}: [keys] unknown binding id '{binding_id}'{hint}")
        if not keys.strip() or any(not k.strip() for k in keys.split(",")):
            raise ConfigError(f"{source}: [keys] '{binding_id}' needs a key, e.g. \"ctrl+r\"")
    return dict(keymap)
