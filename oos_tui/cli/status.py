"""``oos-tui status``: queue depths, task counts, dead letters, breakers and store health."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from oos_tui.cli._common import CliError, Output, settings_from
from oos_tui.config import Settings
from oos_tui.models import iso

__all__ = ["gather_status", "register"]


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``status`` command."""
    p = sub.add_parser(
        "status",
        parents=[common],
        help="queue depths, task counts, dead letters, breakers, store health",
        description="A one-shot summary of the workspace's store.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def _store_json(snapshot: Any) -> dict[str, Any]:
    h = snapshot.health
    return {
        "path": h.path,
        "present": h.present,
        "readable": h.readable,
        "schema_version": h.schema_version,
        "newer_schema": h.newer_schema,
        "journal_mode": h.journal_mode,
        "wal": (h.journal_mode or "").lower() == "wal",
        "size_bytes": h.size_bytes,
        "wal_bytes": h.wal_bytes,
        "missing_tables": list(h.missing_tables),
        "message": h.message,
    }


async def gather_status(settings: Settings) -> dict[str, Any]:
    """Read one snapshot of the store and shape it as the ``status --json`` object."""
    from oos_tui.store.reader import StoreReader

    async with StoreReader(settings.store_path) as reader:
        snap = await reader.poll(force=True)
    assert snap is not None  # force=True always returns a snapshot
    by_state: dict[str, int] = {"closed": 0, "open": 0, "half_open": 0}
    for b in snap.breakers:
        by_state[b.state] = by_state.get(b.state, 0) + 1
    return {
        "workspace": str(settings.workspace),
        "taken_at": iso(snap.taken_at),
        "store": _store_json(snap),
        "queues": [
            {
                "queue": q.queue,
                "depth": q.pending,
                "pending": q.pending,
                "processing": q.processing,
                "completed": q.completed,
                "failed": q.failed,
                "dead_letters": q.dead_letters,
                "oldest_pending_at": iso(q.oldest_pending_at) if q.oldest_pending_at else None,
                "completed_last_hour": q.completed_last_hour,
                "over_threshold": q.pending > settings.alerts.queue_pending,
            }
            for q in snap.queues
        ],
        "tasks": dict(snap.task_counts),
        "dead_letters": snap.dead_letter_count,
        "breakers": {
            "by_state": by_state,
            "open": [b.name for b in snap.breakers if b.state == "open"],
            "half_open": [b.name for b in snap.breakers if b.state == "half_open"],
        },
    }


def _print_text(out: Output, status: dict[str, Any], threshold: int) -> None:
    store = status["store"]
    out.text(f"workspace  {status['workspace']}")
    if not store["present"]:
        out.text(f"store      not present ({store['path']})")
    else:
        mode = "WAL" if store["wal"] else (store["journal_mode"] or "?")
        line = (
            f"store      {store['path']}  schema v{store['schema_version']}  {mode}  "
            f"{store['size_bytes'] / 1e6:.1f} MB (+{store['wal_bytes'] / 1e6:.1f} MB WAL)"
        )
        out.text(line)
    if store["message"]:
        out.text(f"           ! {store['message']}")
    if status["queues"]:
        out.text("")
        head = f"{'queue':<16}{'depth':>8}{'proc':>7}{'done':>9}{'failed':>8}{'dead':>7}"
        out.text(head + "  oldest pending")
        for q in status["queues"]:
            mark = f"  ▲ over {threshold}" if q["over_threshold"] else ""
            out.text(
                f"{q['queue'][:15]:<16}{q['pending']:>8}{q['processing']:>7}{q['completed']:>9}"
                f"{q['failed']:>8}{q['dead_letters']:>7}  {q['oldest_pending_at'] or '-'}{mark}"
            )
    tasks = status["tasks"]
    if tasks:
        out.text("")
        out.text("tasks      " + "  ".join(f"{k} {v}" for k, v in sorted(tasks.items())))
    out.text(f"dead       {status['dead_letters']} dead-letter rows")
    br = status["breakers"]
    counts = br["by_state"]
    out.text(
        f"breakers   ● {counts.get('closed', 0)} closed  ✕ {counts.get('open', 0)} open  "
        f"◐ {counts.get('half_open', 0)} half-open"
    )
    if br["open"]:
        out.text("           open: " + ", ".join(br["open"]))


def run(args: argparse.Namespace) -> int:
    """Print the status; exit 1 when the store exists but cannot be read."""
    settings = settings_from(args)
    status = asyncio.run(gather_status(settings))
    out = Output(settings)
    if args.json:
        out.json(status)
    else:
        _print_text(out, status, settings.alerts.queue_pending)
    out.flush()
    store = status["store"]
    if store["present"] and not store["readable"]:
        raise CliError(store["message"] or "store unreadable")
    return 0
