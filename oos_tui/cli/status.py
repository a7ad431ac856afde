"""``oos-tui status``: alerts, queues, breakers, host, processes, sizes and store health.

One run is a check a cron job or a monitoring agent can use: it exits 0 when
no alert fires, 1 when only warnings fire and 2 when any critical alert
fires, with the report on stdout. A usage or configuration error also exits
2, but prints one ``oos-tui: …`` line on stderr and nothing on stdout, so
the two are told apart by stdout being empty.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from oos_tui.cli._common import Output, settings_from
from oos_tui.config import ConfigError, Settings
from oos_tui.models import iso

if TYPE_CHECKING:
    from oos_tui.alerts import AlertReport, BackupFacts
    from oos_tui.integrity import IntegrityRecord
    from oos_tui.sources.processes import ProcInfo
    from oos_tui.sources.recent import RecentErrors
    from oos_tui.sources.sizes import WorkspaceSizes
    from oos_tui.sources.system import HostSample
    from oos_tui.store.reader import StoreSnapshot

__all__ = ["gather_status", "register"]

_T = TypeVar("_T")

SAMPLE_GAP = 0.2
"""Seconds between the two host samples, so CPU % is measured, not a first-call zero."""

_EPILOG = """\
exit status:
  0  no alert fires
  1  warnings fire, no critical alert
  2  a critical alert fires (the report is on stdout), or a usage or
     configuration error (one line on stderr, nothing on stdout)
"""


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``status`` command."""
    p = sub.add_parser(
        "status",
        parents=[common],
        help="alerts, queues, breakers, host, processes and store health (a monitoring check)",
        description=(
            "A one-shot summary of the workspace: the alerts that fire, queue depths, "
            "task counts, dead letters, breakers, the host, the pipeline's processes, "
            "workspace sizes and store health."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


async def _snapshot(settings: Settings) -> StoreSnapshot:
    from oos_tui.store.reader import StoreReader

    async with StoreReader(settings.store_path) as reader:
        snap = await reader.poll(force=True)
    assert snap is not None  # force=True always returns a snapshot
    return snap


def _guarded(what: str, fn: Callable[[], _T], notes: list[str], debug: bool) -> _T | None:
    """Run one figure's reader; a failure becomes a note (psutil may not read this host)."""
    try:
        return fn()
    except Exception as exc:
        if debug:
            raise
        notes.append(f"{what}: {exc}")
        return None


def _sample_host_and_processes(
    settings: Settings, psutil_module: Any, gap: float, notes: list[str], debug: bool
) -> tuple[HostSample | None, tuple[ProcInfo, ...] | None, float]:
    """Two host samples and two process scans ``gap`` seconds apart; the second of each."""
    from oos_tui.sources.processes import ProcessScanner
    from oos_tui.sources.system import SystemSampler

    try:
        scanner = ProcessScanner(settings.processes.patterns, psutil_module)
    except ValueError as exc:
        raise ConfigError(f"{settings.config_file or 'defaults'}: {exc}") from None

    def primed() -> SystemSampler:
        sampler = SystemSampler(settings.workspace, psutil_module=psutil_module)
        sampler.sample()
        return sampler

    sampler = _guarded("host: cannot sample", primed, notes, debug)
    scanned = _guarded("processes: cannot list", scanner.scan, notes, debug) is not None
    time.sleep(gap)
    host = _guarded("host: cannot sample", sampler.sample, notes, debug) if sampler else None
    procs = _guarded("processes: cannot list", scanner.scan, notes, debug) if scanned else None
    return host, procs, scanner.last_cost


def _alerts_json(report: AlertReport) -> list[dict[str, Any]]:
    return [a.to_json() for a in report.firing]


def _store_health_json(snap: StoreSnapshot, integrity: IntegrityRecord | None) -> dict[str, Any]:
    from oos_tui.integrity import store_health_figures

    figures = store_health_figures(snap.health, integrity).to_json()
    return {"present": snap.health.present, "readable": snap.health.readable, **figures}


def _errors_json(recent: RecentErrors) -> dict[str, Any]:
    return {
        "last_minute": recent.last_minute,
        "baseline_per_minute": round(recent.baseline, 3),
        "per_minute": list(recent.counts),
        "files_read": recent.files,
        "bytes_read": recent.bytes_read,
        "store_rows": recent.store_rows,
        "notes": list(recent.notes),
    }


async def gather_status(
    settings: Settings,
    *,
    psutil_module: Any = None,
    sample_gap: float = SAMPLE_GAP,
    debug: bool = False,
) -> dict[str, Any]:
    """Read the workspace once and shape it as the ``status --json`` object.

    The alert engine runs once with no history, so rules that need a
    duration use what one run can know: the load rule takes the 5-minute
    load average as evidence, dead-letter growth counts rows whose
    ``failed_at`` is inside the window, and the error spike reads the last
    hour of every log backwards.

    Raises:
        ConfigError: a ``[processes]`` pattern is not a valid regex.
    """
    from oos_tui.alerts import (
        AlertEngine,
        AlertInputs,
        backup_facts,
        count_dead_letters_since,
    )
    from oos_tui.integrity import last_integrity
    from oos_tui.sources.recent import recent_errors
    from oos_tui.sources.sizes import measure_sizes

    snap = await _snapshot(settings)
    now = snap.taken_at
    notes: list[str] = []
    dead_in_window = None
    if snap.health.present and snap.health.readable:
        window = settings.alerts.dead_letter_window_minutes * 60.0
        dead_in_window = count_dead_letters_since(settings.store_path, now - window)
    integrity = last_integrity(settings)
    backups: BackupFacts = backup_facts(settings)
    recent = recent_errors(settings, now)
    sizes: WorkspaceSizes = measure_sizes(settings, now)
    host, procs, scan_cost = _sample_host_and_processes(
        settings, psutil_module, sample_gap, notes, debug
    )
    engine = AlertEngine(settings.alerts)
    report = engine.update(
        AlertInputs(
            now=now,
            store=snap,
            host=host,
            dead_letters_in_window=dead_in_window,
            integrity=integrity,
            backups=backups,
            error_counts=recent.counts,
        )
    )
    notes.extend(f"alerts: [alerts] disabled: no rule {d!r}" for d in engine.unknown_disabled)
    by_state: dict[str, int] = {"closed": 0, "open": 0, "half_open": 0}
    for b in snap.breakers:
        by_state[b.state] = by_state.get(b.state, 0) + 1
    return {
        "workspace": str(settings.workspace),
        "taken_at": iso(snap.taken_at),
        "level": report.level,
        "alerts": _alerts_json(report),
        "unevaluated": dict(report.unevaluated),
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
        "dead_letters_in_window": dead_in_window,
        "breakers": {
            "by_state": by_state,
            "open": [b.name for b in snap.breakers if b.state == "open"],
            "half_open": [b.name for b in snap.breakers if b.state == "half_open"],
        },
        "host": host.to_json() if host is not None else None,
        "processes": [p.to_json(now) for p in procs] if procs is not None else None,
        "process_scan_ms": round(scan_cost * 1000.0, 2),
        "sizes": sizes.to_json(),
        "store_health": _store_health_json(snap, integrity),
        "backups": backups.to_json(now),
        "errors": _errors_json(recent),
        "notes": notes,
    }


# ------------------------------------------------------------------ text


def _mb(n: float | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def _print_alerts(out: Output, status: dict[str, Any]) -> None:
    alerts = status["alerts"]
    crit = sum(1 for a in alerts if a["severity"] == "critical")
    if not alerts:
        out.text("alerts     none firing")
    else:
        out.text(f"alerts     {len(alerts)} firing: {crit} critical, {len(alerts) - crit} warning")
        for a in alerts:
            word = "CRIT" if a["severity"] == "critical" else "WARN"
            where = f"{a['target']} {a['target_arg']}".strip()
            out.text(f"  {'✕' if word == 'CRIT' else '▲'} {word}  {a['summary']}   → {where}")
    by_reason: dict[str, list[str]] = {}
    for rule, why in status["unevaluated"].items():
        by_reason.setdefault(why, []).append(rule)
    for why, rules in by_reason.items():
        out.text(f"           (not evaluated: {', '.join(rules)}: {why})")


def _print_store(out: Output, status: dict[str, Any], threshold: int) -> None:
    store = status["store"]
    out.text(f"workspace  {status['workspace']}")
    if not store["present"]:
        out.text(f"store      not present ({store['path']})")
    else:
        mode = "WAL" if store["wal"] else (store["journal_mode"] or "?")
        version = store["schema_version"]
        schema = "schema ?" if version is None else f"schema v{version}"
        line = (
            f"store      {store['path']}  {schema}  {mode}  "
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
        out.text("")
    tasks = status["tasks"]
    if tasks:
        out.text("tasks      " + "  ".join(f"{k} {v}" for k, v in sorted(tasks.items())))
    recent = status["dead_letters_in_window"]
    recent_text = f" ({recent} in the last window)" if recent else ""
    out.text(f"dead       {status['dead_letters']} dead-letter rows{recent_text}")
    br = status["breakers"]
    counts = br["by_state"]
    out.text(
        f"breakers   ● {counts.get('closed', 0)} closed  ✕ {counts.get('open', 0)} open  "
        f"◐ {counts.get('half_open', 0)} half-open"
    )
    if br["open"]:
        out.text("           open: " + ", ".join(br["open"]))


def _print_host(out: Output, status: dict[str, Any]) -> None:
    host = status["host"]
    if host is None:
        out.text("host       not sampled")
        return
    mem, disk, me = host["memory"], host["disk"], host["console"]
    load = " ".join(f"{x:.2f}" for x in host["load"])
    out.text(
        f"host       cpu {host['cpu_percent']:.0f}% ({len(host['per_cpu'])} cores)  "
        f"load {load}  memory {mem['available_percent']:.0f}% available  "
        f"swap {host['swap_percent']:.0f}%"
    )
    out.text(
        f"           disk {disk['percent']:.0f}% of {_mb(disk['total'])} at {disk['path']}  "
        f"console cpu {me['cpu_percent']:.1f}% rss {_mb(me['rss'])}"
    )


def _print_processes(out: Output, status: dict[str, Any]) -> None:
    procs = status["processes"]
    if procs is None:
        out.text("processes  not listed")
        return
    pipeline = [p for p in procs if not p["is_self"] or p["matched"]]
    out.text(f"processes  {len(pipeline)} of the pipeline (scan {status['process_scan_ms']} ms)")
    out.text(f"  {'pid':>7} {'cpu':>7} {'rss':>9} {'thr':>7}  {'uptime':<10} {'status':<9} command")
    for p in procs:
        cpu = "-" if p["cpu_percent"] is None else f"{p['cpu_percent']:.1f}"
        rss = "-" if p["rss"] is None else _mb(p["rss"])
        who = "console" if p["is_self"] else p["status"]
        threads = p["threads"] if p["threads"] is not None else "-"
        out.text(
            f"  {p['pid']:>7} {cpu:>6}% {rss:>9} {threads:>7}  "
            f"{_age(p['uptime_seconds']):<10} {who:<9} {p['cmdline'] or p['name']}"
        )


def _print_resources(out: Output, status: dict[str, Any]) -> None:
    sz = status["sizes"]
    out.text(
        f"sizes      store {_mb(sz['store']['bytes'])}  wal {_mb(sz['wal']['bytes'])}  "
        f"logs {_mb(sz['logs']['bytes'])} ({sz['logs']['files']} files)  "
        f"backups {_mb(sz['backups']['bytes'])} ({sz['backups']['files']})  "
        f"out {_mb(sz['out']['bytes'])}{'' if sz['out']['complete'] else '+'} "
        f"({sz['out']['files']} files)"
    )
    sh = status["store_health"]
    if sh["page_count"] is not None:
        ratio = sh["freelist_ratio"] or 0.0
        out.text(
            f"health     {sh['page_count']} pages of {sh['page_size']} B, "
            f"freelist {ratio:.0%}{'  ▲ VACUUM recommended' if sh['vacuum_recommended'] else ''}"
        )
    check = sh["last_check"]
    if check is None:
        out.text("integrity  never checked by this console")
    else:
        verdict = "ok" if check["ok"] else f"FAILED: {check['detail']}"
        out.text(f"integrity  {check['kind']} {verdict} at {check['at']}")
    b = status["backups"]
    if not b["available"]:
        out.text(f"backups    {b['reason']}; {b['count']} backup files")
    elif b["newest_verified_age_hours"] is None:
        out.text(f"backups    no verified backup ({b['count']} backup files)")
    else:
        out.text(
            f"backups    newest verified {b['newest_verified_age_hours']:.1f} h ago "
            f"({b['count']} backup files)"
        )
    e = status["errors"]
    out.text(
        f"errors     {e['last_minute']} in the last minute, "
        f"{e['baseline_per_minute']:.1f}/min over the hour before"
    )
    for note in status["notes"] + e["notes"]:
        out.text(f"note       {note}")


def _print_text(out: Output, status: dict[str, Any], threshold: int) -> None:
    _print_alerts(out, status)
    out.text("")
    _print_store(out, status, threshold)
    out.text("")
    _print_host(out, status)
    _print_processes(out, status)
    _print_resources(out, status)


def run(args: argparse.Namespace) -> int:
    """Print the status; exit 0, 1 or 2 by the worst alert firing."""
    settings = settings_from(args)
    status = asyncio.run(gather_status(settings, debug=bool(getattr(args, "debug", False))))
    out = Output(settings)
    if args.json:
        out.json(status)
    else:
        _print_text(out, status, settings.alerts.queue_pending)
    out.flush()
    return {"ok": 0, "warning": 1, "critical": 2}[status["level"]]
