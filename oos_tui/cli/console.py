"""``oos-tui`` with no command: open the console on the workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from oos_tui.cli._common import settings_from
from oos_tui.config import user_cache_dir
from oos_tui.screens.registry import DEFAULT_SCREEN, SCREEN_MODES

__all__ = ["add_screen_option", "register", "run_console"]


def add_screen_option(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--screen NAME``: the screen the console opens on (k9s's ``--command``).

    On both ``oos-tui`` and ``oos-tui console``; the top-level parser owns the
    default, as with the common options.
    """
    parser.add_argument(
        "--screen",
        metavar="NAME",
        choices=SCREEN_MODES,
        default=DEFAULT_SCREEN if defaults else argparse.SUPPRESS,
        help=f"screen to open on: {', '.join(SCREEN_MODES)} (default {DEFAULT_SCREEN})",
    )


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """The console is the default; ``oos-tui console`` is the explicit spelling."""
    p = sub.add_parser("console", parents=[common], help="open the console (the default)")
    add_screen_option(p, defaults=False)
    p.set_defaults(handler=run_console)


def _css_cache() -> Path | None:
    """Where the parsed stylesheet is kept (None: no home directory to keep it in)."""
    try:
        return user_cache_dir() / "css"
    except RuntimeError:  # no $HOME and no password entry
        return None


def run_console(args: argparse.Namespace) -> int:
    """Load settings (errors are one line, exit 2), then run the Textual app."""
    settings = settings_from(args)
    from oos_tui.memory import configure_allocator, pause_collector

    configure_allocator()  # hours of following: keep resident memory near what is live
    pause_collector()  # until the first frame (the app settles it)
    from oos_tui.eventlog.first import FirstStep

    first_step = FirstStep(settings)  # the newest events are read while Textual loads
    from oos_tui.app import make_app  # Textual is imported only when a screen is wanted

    app = make_app(
        settings,
        show_tracebacks=bool(getattr(args, "debug", False)),
        start_screen=getattr(args, "screen", DEFAULT_SCREEN),
        first_step=first_step,
        css_cache=_css_cache(),
    )
    app.run()
    return int(app.return_code or 0)
