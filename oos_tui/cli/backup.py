"""``oos-tui backup [--list | --verify FILE]`` and ``oos-tui restore FILE``: backups headless."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from oos_tui.cli._common import CliError, Output, fail, require_writable, settings_from
from oos_tui.models import ActionResult
from oos_tui.timeutil import format_duration
from oos_tui.units import format_bytes

if TYPE_CHECKING:
    from oos_tui.config import Settings

__all__ = ["ProgressBar", "register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``backup`` and ``restore`` commands."""
    p = sub.add_parser(
        "backup",
        parents=[common],
        help="take a verified backup of the store; --list or --verify FILE",
        description="Take a backup of data/oos.db with SQLite's online backup API while the "
        "producer writes, check it with PRAGMA integrity_check, hash it, write its sidecar, "
        "give it its final name and apply retention; audited. --list shows the backups; "
        "--verify FILE checks one again (sha256, integrity_check, row counts).",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="list the backups, newest first")
    mode.add_argument(
        "--verify",
        metavar="FILE",
        help="verify a backup (a path, or a file name in the backups directory)",
    )
    p.add_argument("--json", action="store_true", help="JSON output (one object per line)")
    p.set_defaults(handler=run_backup)

    p = sub.add_parser(
        "restore",
        parents=[common],
        help="replace the store with a verified backup (deliberate; audited)",
        description="Replace data/oos.db with a backup. Refuses unless the backup verifies, "
        "no pipeline process runs and nothing else has the store open. The current store is "
        "first backed up as pre-restore-<time>.db. Asks for confirmation unless --yes.",
    )
    p.add_argument("file", metavar="FILE", help="the backup: a path, or a file name in backups/")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(handler=run_restore)


class ProgressBar:
    """A one-line textual progress bar, redrawn in place on a terminal stream."""

    def __init__(self, stream: IO[str], width: int = 30) -> None:
        self._stream = stream
        self._width = width
        self._drawn = False

    def __call__(self, remaining: int, total: int) -> None:
        """Draw the bar for ``total - remaining`` pages of ``total``."""
        done = max(0, total - remaining)
        frac = done / total if total else 1.0
        filled = round(frac * self._width)
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\rbackup [{bar}] {frac:4.0%}  {done}/{total} pages")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line, if one was drawn."""
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def _emit(out: Output, result: ActionResult, *, as_json: bool, verb: str) -> int:
    if as_json:
        out.json(result.to_json())
    elif result.ok:
        out.text(result.message)
    out.flush()
    if result.ok:
        return 0
    fail(result.message if result.message.startswith(verb) else f"{verb}: {result.message}")
    return 1


def _when(ts: float | None) -> str:
    if ts is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts))


def run_backup(args: argparse.Namespace) -> int:
    """Take a backup, or list or verify them; exit 0 when all is well, else 1."""
    settings = settings_from(args)
    if args.list:
        return _list(settings, as_json=args.json)
    if args.verify is not None:
        return _verify(settings, args.verify, as_json=args.json)
    from oos_tui.actions.backup import take_backup

    require_writable(settings, "backup")
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.json else None
    try:
        result = asyncio.run(take_backup(settings, progress=bar))
    finally:
        if bar is not None:
            bar.close()
    return _emit(Output(settings), result, as_json=args.json, verb="backup")


def _list(settings: Settings, *, as_json: bool) -> int:
    from oos_tui.actions.backup import list_backups

    backups = list_backups(settings)
    now = time.time()
    out = Output(settings)
    if as_json:
        out.json_many(b.to_json(now) for b in backups)
        out.flush()
        return 0
    if not backups:
        out.text(f"no backups in {settings.backups_dir}")
        out.flush()
        return 0
    out.text(
        f"{'time (UTC)':<20}  {'size':>9}  {'integrity':<9}  {'age':>7}  "
        f"{'verified at (UTC)':<20}  {'kind':<11}  file  (status)"
    )
    for b in backups:
        status = "" if b.ok else f"  ({b.status})"
        integrity = b.integrity if len(b.integrity) <= 9 else "FAILED"
        out.text(
            f"{_when(b.created_at):<20}  {format_bytes(b.bytes):>9}  {integrity:<9}  "
            f"{format_duration(now - b.created_at):>7}  {_when(b.verified_at):<20}  "
            f"{b.kind:<11}  {b.path.name}{status}"
        )
    out.flush()
    return 0


def _verify(settings: Settings, name: str, *, as_json: bool) -> int:
    from oos_tui.actions.backup import resolve_backup, verify_backup

    path = resolve_backup(settings, name)
    if not path.is_file():
        raise CliError(f"verify: no backup at {path}")
    report = verify_backup(path, record=not settings.read_only)
    out = Output(settings)
    if as_json:
        out.json(report.to_json())
    else:
        out.text(f"file       {report.path}")
        sha = "matches the sidecar" if report.sha_ok else "DOES NOT MATCH the sidecar"
        out.text(f"sha256     {report.sha256 or '-'} ({sha})")
        out.text(f"integrity  {report.integrity}")
        out.text(
            f"schema     v{report.schema_version if report.schema_version is not None else '?'}"
        )
        for table, count in report.row_counts.items():
            out.text(f"rows       {table:<18} {count:>10}")
        for err in report.errors:
            out.text(f"problem    {err}")
        recorded = "recorded in the sidecar" if report.recorded else report.note or "not recorded"
        out.text(f"result     {'ok' if report.ok else 'FAILED'} ({recorded})")
    out.flush()
    if report.ok:
        return 0
    fail(f"verify: {report.message}")
    return 1


def _confirm(settings: Settings, path: Path) -> None:
    if not sys.stdin.isatty():
        raise CliError(
            "restore refused: it replaces the store; confirm with --yes "
            "(stdin is not a terminal); nothing changed"
        )
    sys.stderr.write(
        f"Replace the store {settings.store_path}\n   with the backup {path}?\n"
        "The current store is backed up as pre-restore-<time>.db first.\n"
        "Type 'yes' to restore: "
    )
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    if answer != "yes":
        raise CliError("restore cancelled: nothing changed")


def run_restore(args: argparse.Namespace) -> int:
    """Restore a backup over the store; exit 0 when done, 1 when refused or failed."""
    from oos_tui.actions.backup import resolve_backup, restore_backup

    settings = settings_from(args)
    require_writable(settings, "restore")
    path = resolve_backup(settings, args.file)
    if not path.is_file():
        raise CliError(f"restore refused: no backup at {path}; nothing changed")
    if not args.yes:
        _confirm(settings, path)
    result = asyncio.run(restore_backup(settings, path))
    return _emit(Output(settings), result, as_json=args.json, verb="restore")
