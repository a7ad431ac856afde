"""The ``oos-tui`` command line: the console, and every view and action headless.

Each command group lives in its own module with a ``register(subparsers,
common)`` function; this module only builds the parser and maps failures to
exit codes: 0 ok, 2 usage or configuration error, 1 runtime failure. Errors
are one readable line on stderr; a traceback only with ``--debug``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from oos_tui import __version__
from oos_tui.cli import _common
from oos_tui.cli._common import CliError, UsageError
from oos_tui.config import ConfigError

__all__ = ["build_parser", "main"]

# Modules that each add one or more subcommands, in the order shown in --help.
_COMMAND_MODULES = (
    "oos_tui.cli.console",
    "oos_tui.cli.init",
    "oos_tui.cli.events",
    "oos_tui.cli.status",
)
_OPTIONAL_MODULES = (
    "oos_tui.cli.demo",
    "oos_tui.cli.deadletter",
    "oos_tui.cli.breakers",
    "oos_tui.cli.backup",
    "oos_tui.cli.jobs",
)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"oos-tui: usage error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every command module registered."""
    import importlib

    common = _common.common_options()
    parser = _Parser(
        prog="oos-tui",
        description="The operator's console for the OOS pipeline.",
        parents=[_common.common_options(defaults=True)],
        epilog="Without a command, opens the console on the workspace.",
    )
    parser.add_argument("--version", action="version", version=f"oos-tui {__version__}")
    from oos_tui.cli.console import add_screen_option

    add_screen_option(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES + _OPTIONAL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if name in _OPTIONAL_MODULES and exc.name == name:
                continue  # a command group that has not been built yet
            raise
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    handler = getattr(args, "handler", None)
    if handler is None:
        from oos_tui.cli.console import run_console

        handler = run_console
    try:
        return int(handler(args) or 0)
    except (ConfigError, UsageError) as exc:
        _common.fail(str(exc), prefix="oos-tui: ")
        if debug:
            traceback.print_exc()
        return 2
    except CliError as exc:
        _common.fail(str(exc), prefix="oos-tui: error: ")
        if debug:
            traceback.print_exc()
        return exc.code
    except KeyboardInterrupt:
        _common.fail("interrupted", prefix="oos-tui: ")
        return 130
    except BrokenPipeError:
        _common.silence_broken_pipe()
        return 0
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if debug:
            traceback.print_exc()
        _common.fail(_common.describe(exc), prefix="oos-tui: error: ")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
