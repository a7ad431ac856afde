"""Shared plumbing of the CLI commands: options, settings, safe output, errors."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import Any

from oos_tui.config import Settings, load_settings

__all__ = [
    "CliError",
    "Output",
    "UsageError",
    "common_options",
    "describe",
    "fail",
    "require_writable",
    "settings_from",
    "silence_broken_pipe",
]


class CliError(Exception):
    """A runtime failure with a one-line message and an exit code (default 1)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class UsageError(Exception):
    """Wrong use of a command that argparse cannot see (exit code 2)."""


def common_options(*, defaults: bool = False) -> argparse.ArgumentParser:
    """Options accepted before or after the command name.

    The top-level parser owns the defaults; the copies on subcommands use
    SUPPRESS so ``oos-tui --workspace X events`` is not undone by the
    subcommand's own default.
    """
    p = argparse.ArgumentParser(add_help=False)
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    p.add_argument(
        "--workspace",
        "-w",
        metavar="DIR",
        default=d(None),
        help="workspace directory (default: $OOS_WORKSPACE, else the current directory)",
    )
    p.add_argument(
        "--read-only",
        action="store_true",
        default=d(False),
        help="open the store read-only; every action is refused",
    )
    p.add_argument("--theme", metavar="NAME", default=d(None), help="console theme")
    p.add_argument(
        "--config",
        metavar="FILE",
        default=d(None),
        help="settings file (default: WORKSPACE/oos-tui.toml)",
    )
    p.add_argument(
        "--debug", action="store_true", default=d(False), help="show tracebacks on errors"
    )
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """Load the workspace settings named by the common options."""
    return load_settings(
        getattr(args, "workspace", None),
        read_only=bool(getattr(args, "read_only", False)),
        theme=getattr(args, "theme", None),
        config_file=getattr(args, "config", None),
    )


def describe(exc: BaseException) -> str:
    """One readable line for an unexpected exception."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {first}" if first else name


def fail(message: str, *, prefix: str = "oos-tui: error: ") -> None:
    """Print one line on stderr, made terminal-safe."""
    from oos_tui.sanitize import escape_controls

    line = escape_controls(message.replace("\n", " ").strip())
    try:
        sys.stderr.write(f"{prefix}{line}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def silence_broken_pipe() -> None:
    """After the reader of stdout went away (``| head``), exit without noise."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class Output:
    """Writes to stdout with everything from logs or the store made safe.

    Text goes through the sanitizer (control sequences escaped, secrets
    redacted); JSON through :meth:`Sanitizer.json_bytes` so it stays valid
    and lossless. Writes bytes, so a line is never re-encoded by the locale.
    """

    def __init__(self, settings: Settings | None = None, stream: Any = None) -> None:
        from oos_tui.sanitize import Sanitizer

        self._san = Sanitizer(settings.redact if settings else None)
        self._out = stream if stream is not None else sys.stdout.buffer

    def text(self, line: str) -> None:
        """One line of human output; ``line`` may hold untrusted text."""
        self._out.write(self._san.clean(line).encode("utf-8", "replace") + b"\n")

    def safe(self, text: str) -> str:
        """Untrusted text made safe for a terminal (for building table cells)."""
        return self._san.clean(text)

    def json(self, obj: Any) -> None:
        """One JSON object per line."""
        self._out.write(self._san.json_bytes(obj, newline=True))

    def json_many(self, objs: Iterable[Any]) -> None:
        """Several JSON lines."""
        for obj in objs:
            self.json(obj)

    def flush(self) -> None:
        """Flush stdout."""
        self._out.flush()


def require_writable(settings: Settings, action: str) -> None:
    """Refuse an action in read-only mode (exit code 1, one clear line)."""
    if settings.read_only:
        raise CliError(f"{action} refused: read-only mode (--read-only); nothing changed")
