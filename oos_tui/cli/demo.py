"""``oos-tui demo``: a simulated OOS pipeline writing a live workspace, with the console on it."""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson

from oos_tui.cli._common import CliError, UsageError
from oos_tui.config import ConfigError, load_settings
from oos_tui.demo.options import (
    DEFAULT_APP_ROTATE_BYTES,
    DEFAULT_RATE,
    DEFAULT_ROTATE_BYTES,
    DemoOptions,
)
from oos_tui.timeutil import parse_ts

__all__ = ["options_from", "register", "run"]

_DESCRIPTION = """\
Run a reference OOS producer: workers take, complete and fail tasks on three
queues, breakers trip and recover, a backfill floods a queue past the alert
and drains, jobs run under out/, and every log of the contract grows and
rotates. Without --headless the console opens on the workspace and quitting
it stops the producer; with --headless it only produces (for tests,
benchmarks, or a second terminal). Without --workspace a fresh temporary
workspace is made and its path printed."""

_EPILOG = """\
Reproducible runs: --seed N fixes the sequence of events; add --fixed-time ISO
to fix the timestamps too (system_metrics then come from a seeded model, not
psutil), and --ticks N to stop after N ticks, run as fast as possible:
the same flags write byte-identical logs and identical store rows."""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``demo`` command."""
    p = sub.add_parser(
        "demo",
        parents=[common],
        help="run a simulated OOS pipeline and open the console on it",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--seed", type=int, metavar="N", help="seed of every random choice (default: random)"
    )
    p.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        metavar="EVENTS_PER_S",
        help=f"simulation ticks per second, about one store action each (default {DEFAULT_RATE:g})",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="divide every simulated delay (backoff, breaker windows, durations) by FACTOR",
    )
    p.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after SECONDS of wall time"
    )
    p.add_argument("--headless", action="store_true", help="only produce; do not open the console")
    p.add_argument(
        "--fixed-time",
        metavar="ISO",
        help="start simulated time at ISO (UTC unless it says otherwise): reproducible timestamps",
    )
    p.add_argument(
        "--ticks",
        type=int,
        metavar="N",
        help="stop after N ticks (with --fixed-time: as fast as possible, unpaced)",
    )
    p.add_argument(
        "--rotate-bytes",
        type=int,
        default=DEFAULT_ROTATE_BYTES,
        metavar="BYTES",
        help=f"rotate ai_events.log at this size (default {DEFAULT_ROTATE_BYTES})",
    )
    p.add_argument(
        "--app-rotate-bytes",
        type=int,
        default=DEFAULT_APP_ROTATE_BYTES,
        metavar="BYTES",
        help=f"rotate oos.log and logs/*.log at this size (default {DEFAULT_APP_ROTATE_BYTES})",
    )
    p.add_argument(
        "--keep-jobs",
        type=int,
        default=30,
        metavar="N",
        help="job directories kept under out/ (default 30)",
    )
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def options_from(args: argparse.Namespace, workspace: Path) -> DemoOptions:
    """Check the flags and build the producer's options.

    Raises:
        UsageError: a flag's value is out of range or unreadable (exit code 2).
    """
    fixed = None
    if args.fixed_time is not None:
        fixed = parse_ts(args.fixed_time)
        if fixed is None:
            raise UsageError(f"--fixed-time: not an ISO-8601 time: {args.fixed_time!r}")
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    try:
        return DemoOptions(
            workspace=workspace,
            seed=seed,
            rate=args.rate,
            speed=args.speed,
            duration=args.duration,
            ticks=args.ticks,
            fixed_time=fixed,
            rotate_bytes=args.rotate_bytes,
            app_rotate_bytes=args.app_rotate_bytes,
            keep_jobs=args.keep_jobs,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _workspace(arg: str | None) -> Path:
    """The demo's workspace: ``--workspace``, else a new temporary directory.

    ``$OOS_WORKSPACE`` is deliberately not used: a simulated pipeline must
    never be written into a real workspace by accident. For the same reason
    a directory that is not empty must be one an earlier demo made.
    """
    from oos_tui.demo.world import MARKER

    if arg is None:
        return Path(tempfile.mkdtemp(prefix="oos-demo-"))
    path = Path(arg).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"workspace {path} is not a directory")
    if path.is_dir() and not (path / MARKER).exists() and any(path.iterdir()):
        raise CliError(
            f"refusing to run the demo in {path}: it is not empty and no demo made it"
            " (use a new or empty directory)"
        )
    return path


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    """Validate, then produce headless or run the console with a producer behind it."""
    options = options_from(args, Path())  # flags are checked before a directory is made
    if not args.headless:
        _check_theme(getattr(args, "theme", None))
    options = dataclasses.replace(options, workspace=_workspace(getattr(args, "workspace", None)))
    if args.headless:
        from oos_tui.demo.producer import run_producer

        _say(str(options.workspace))
        ready = Path(args.ready_file) if args.ready_file else None
        summary = run_producer(options, ready_file=ready, parent_pid=args.parent_pid)
        _say(orjson.dumps({"summary": summary}).decode())
        return 0
    return _run_console(args, options)


def _console(args: argparse.Namespace) -> Callable[[Path], int]:
    def open_console(workspace: Path) -> int:
        settings = load_settings(
            workspace,
            read_only=bool(getattr(args, "read_only", False)),
            theme=getattr(args, "theme", None),
            config_file=getattr(args, "config", None),
        )
        from oos_tui.app import make_app  # Textual only when a screen is wanted

        app = make_app(settings)
        app.run()
        return int(app.return_code or 0)

    return open_console


def _check_theme(theme: str | None) -> None:
    from oos_tui import themes

    if theme is not None and theme not in themes.theme_names():
        raise ConfigError(
            f"unknown theme '{theme}' (choose from {', '.join(themes.theme_names())})"
        )


def _run_console(args: argparse.Namespace, options: DemoOptions) -> int:
    from oos_tui.demo.launcher import DemoError, run_with_console

    _say(f"oos-tui demo: workspace {options.workspace} (seed {options.seed})")
    try:
        code = run_with_console(options, _console(args))
    except DemoError as exc:
        raise CliError(str(exc)) from None
    _say(f"oos-tui demo: producer stopped; the workspace stays at {options.workspace}")
    return code
